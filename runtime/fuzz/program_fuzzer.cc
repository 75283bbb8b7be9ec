// program_fuzzer.cc - libFuzzer harness for the program loader.
//
// Feeds arbitrary bytes to Program::load (decoding and validation) and, for
// programs it accepts, to every CPU kernel's check. Inputs that start with
// the magic are loaded a second time with their header's size and checksum
// made to match, so that mutations of the payload get past the checksum.
// Neither may crash, read out of bounds (the fuzzer builds with
// AddressSanitizer) or allocate what the input merely claims. Built with
// clang's -fsanitize=fuzzer by runtime/fuzz/build.sh; replayed over the
// committed corpus in every test run (corpus/, and by the normal build's
// mlg-program-replay).

#include "../src/check.h"
#include "../src/program.h"
#include "mlg_rt/program_file.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

static void loadAndCheck(const uint8_t *data, size_t size) {
  std::shared_ptr<const mlg_rt::Program> program;
  if (!mlg_rt::Program::load(data, size, &program).ok())
    return;
  mlg_rt::cpu::CpuOptions options;
  (void)mlg_rt::checkForCpu(*program, options);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  loadAndCheck(data, size);
  if (size >= mlg_rt::kProgramHeaderBytes &&
      std::memcmp(data, mlg_rt::kProgramMagic, sizeof(mlg_rt::kProgramMagic)) ==
          0) {
    std::vector<uint8_t> fixed(data, data + size);
    const uint8_t *payload = fixed.data() + mlg_rt::kProgramHeaderBytes;
    size_t payloadSize = size - mlg_rt::kProgramHeaderBytes;
    mlg_rt::writeProgramHeader(payload, payloadSize, fixed.data());
    loadAndCheck(fixed.data(), fixed.size());
  }
  return 0;
}
