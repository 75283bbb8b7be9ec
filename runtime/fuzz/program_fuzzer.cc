// program_fuzzer.cc - libFuzzer harness for the program loader.
//
// Feeds arbitrary bytes to Program::load (decoding and validation) and, for
// programs it accepts, to every CPU kernel's check. Neither may crash, read
// out of bounds (the fuzzer builds with AddressSanitizer) or allocate what
// the input merely claims. Built with clang's -fsanitize=fuzzer by
// runtime/fuzz/build.sh; replayed over the committed corpus in every test
// run (corpus/, and by the normal build's mlg-program-replay).

#include "../src/check.h"
#include "../src/program.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::shared_ptr<const mlg_rt::Program> program;
  if (!mlg_rt::Program::load(data, size, &program).ok())
    return 0;
  mlg_rt::cpu::CpuOptions options;
  (void)mlg_rt::checkForCpu(*program, options);
  return 0;
}
