// replay.cc - runs the fuzz harness over files, without libFuzzer.
//
//   mlg-program-replay FILE_OR_DIR...
//
// The normal build's way to replay the committed corpus in every test run;
// the libFuzzer build (build.sh) does the same under AddressSanitizer.

#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replayFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 1;
}

int main(int argc, char **argv) {
  int count = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      std::fprintf(stderr, "mlg-program-replay: cannot read %s\n", argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      count += replayFile(argv[i]);
      continue;
    }
    DIR *dir = opendir(argv[i]);
    while (dirent *e = readdir(dir))
      if (e->d_name[0] != '.')
        count += replayFile(std::string(argv[i]) + "/" + e->d_name);
    closedir(dir);
  }
  std::printf("replayed %d input(s)\n", count);
  return 0;
}
