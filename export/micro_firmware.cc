// Cortex-M4 test firmware for a micro bundle (export/tflm_kit.py links it): classifies the test images
// linked into it (test_data.S) with the bundle's mnist_setup()/mnist_classify() and prints, through
// semihosting, "OUT <i> <label> <class> <int8 scores...>" per image. tflm_kit_mark() brackets every
// mnist_classify() call for the kit's QEMU instruction-counting plugin.
#include <cstdint>
#include <cstdio>

#include "mnist_classifier.h"
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"

extern "C" const unsigned int g_test_count;
extern "C" const unsigned char g_test_x[];
extern "C" const unsigned char g_test_y[];

extern "C" __attribute__((noinline, used)) void tflm_kit_mark(uint32_t id) {
  __asm volatile("" : : "r"(id) : "memory");
}

static void log_to_stdout(const char* s) { std::fputs(s, stdout); }

int main() {
  RegisterDebugLogCallback(log_to_stdout);
  if (!mnist_setup()) {
    std::printf("ERROR mnist_setup failed\n");
    return 1;
  }
  std::printf("ARENA_USED %u\n", static_cast<unsigned>(mnist_arena_used_bytes()));
  int8_t scores[kMnistClasses];
  for (unsigned i = 0; i < g_test_count; ++i) {
    tflm_kit_mark(2 * i);
    const int cls = mnist_classify(g_test_x + i * kMnistImagePixels, scores);
    tflm_kit_mark(2 * i + 1);
    if (cls < 0) {
      std::printf("ERROR mnist_classify failed on image %u\n", i);
      return 1;
    }
    std::printf("OUT %u %d %d", i, static_cast<int>(g_test_y[i]), cls);
    for (int k = 0; k < kMnistClasses; ++k) std::printf(" %d", scores[k]);
    std::printf("\n");
  }
  std::printf("DONE %u\n", g_test_count);
  return 0;
}
