// DataTest.cpp - IDX files, plain and gzip, data sets and their batches.
//
// Files are built here byte by byte (the IDX layout written out, gzip by
// zlib's deflate), so every check compares against an independent encoding;
// Fashion-MNIST, where installed, against its published class counts.

#include "data/dataset.h"
#include "data/idx.h"
#include "data/synthetic.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

using namespace mlg_rt;
using namespace mlg_rt::data;

namespace {

/// An IDX file: header, then `payload` as is.
std::string idx(uint8_t type, const std::vector<uint32_t> &dims,
                const std::string &payload) {
  std::string s = {0, 0, char(type), char(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      s += char((d >> shift) & 0xff);
  return s + payload;
}

std::string ubytes(const std::vector<int> &values) {
  std::string s;
  for (int v : values)
    s += char(v);
  return s;
}

std::string gzip(const std::string &plain) {
  z_stream z;
  std::memset(&z, 0, sizeof z);
  EXPECT_EQ(
      deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
      Z_OK);
  std::string out(deflateBound(&z, uLong(plain.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(plain.data()));
  z.avail_in = uInt(plain.size());
  z.next_out = reinterpret_cast<Bytef *>(out.data());
  z.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

class TempDir {
public:
  TempDir() {
    char pattern[] = "/tmp/mlg-data-test-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string write(const std::string &name, const std::string &bytes) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

std::string errorOf(const std::string &bytes) {
  IdxArray a;
  Status s = parseIdx(bytes, "f.idx", &a);
  return s.ok() ? "ok" : s.message();
}

} // namespace

TEST(Idx, DecodesUnsignedBytes) {
  IdxArray a;
  ASSERT_TRUE(
      parseIdx(idx(0x08, {2, 3}, ubytes({0, 1, 2, 253, 254, 255})), "f", &a)
          .ok());
  EXPECT_EQ(a.type, IdxType::U8);
  EXPECT_EQ(a.dims, (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(a.numel(), 6u);
  EXPECT_EQ(a.data, (std::vector<uint8_t>{0, 1, 2, 253, 254, 255}));
}

TEST(Idx, ConvertsBigEndianElements) {
  IdxArray a;
  // int16 0x0102 = 258 and -2 (0xFFFE); int32 0x01020304; float32 1.5
  // (0x3FC00000); float64 -2.0 (0xC000000000000000).
  ASSERT_TRUE(
      parseIdx(idx(0x0B, {2}, ubytes({1, 2, 0xff, 0xfe})), "f", &a).ok());
  int16_t i16[2];
  std::memcpy(i16, a.data.data(), 4);
  EXPECT_EQ(i16[0], 258);
  EXPECT_EQ(i16[1], -2);
  ASSERT_TRUE(parseIdx(idx(0x0C, {1}, ubytes({1, 2, 3, 4})), "f", &a).ok());
  int32_t i32;
  std::memcpy(&i32, a.data.data(), 4);
  EXPECT_EQ(i32, 0x01020304);
  ASSERT_TRUE(
      parseIdx(idx(0x0D, {1}, ubytes({0x3f, 0xc0, 0, 0})), "f", &a).ok());
  float f;
  std::memcpy(&f, a.data.data(), 4);
  EXPECT_EQ(f, 1.5f);
  ASSERT_TRUE(
      parseIdx(idx(0x0E, {1}, ubytes({0xc0, 0, 0, 0, 0, 0, 0, 0})), "f", &a)
          .ok());
  double d;
  std::memcpy(&d, a.data.data(), 8);
  EXPECT_EQ(d, -2.0);
}

TEST(Idx, RejectsCorruptHeaders) {
  EXPECT_EQ(errorOf(""), "'f.idx' is truncated (0 bytes, shorter than its IDX "
                         "header)");
  EXPECT_EQ(errorOf(ubytes({0, 0, 8})),
            "'f.idx' is truncated (3 bytes, shorter than its IDX header)");
  EXPECT_EQ(errorOf(ubytes({0, 0, 8, 2, 0, 0, 0})),
            "'f.idx' is truncated (7 bytes, shorter than its IDX header)");
  EXPECT_EQ(errorOf("P5\n28 28\n255\n"),
            "'f.idx' is not an IDX file (bad magic: it must start with two "
            "zero bytes)");
  EXPECT_EQ(errorOf(idx(0x07, {1}, "x")),
            "'f.idx' has an unknown IDX element type 0x07");
  EXPECT_EQ(errorOf(idx(0x08, {}, "")),
            "'f.idx' has 0 dimensions (an IDX file has 1 to 16)");
  EXPECT_EQ(errorOf(idx(0x0E, {0xffffffffu, 0xffffffffu, 0xffffffffu}, "")),
            "'f.idx': its dimensions overflow 64 bits");
}

TEST(Idx, RejectsTruncatedAndExtendedData) {
  EXPECT_EQ(errorOf(idx(0x08, {2, 2}, ubytes({1, 2, 3}))),
            "'f.idx' is truncated: dimensions 2x2 need 4 bytes of data, it "
            "has 3");
  EXPECT_EQ(errorOf(idx(0x0C, {2}, ubytes({0, 0, 0, 1}))),
            "'f.idx' is truncated: dimensions 2 need 8 bytes of data, it has "
            "4");
  EXPECT_EQ(errorOf(idx(0x08, {2}, ubytes({1, 2, 3}))),
            "'f.idx' has 1 bytes after the data its dimensions 2 describe");
  // Zero-sized arrays are well formed.
  EXPECT_EQ(errorOf(idx(0x08, {0, 28}, "")), "ok");
}

TEST(Idx, ReadsPlainAndGzipFiles) {
  TempDir dir;
  std::string content = idx(0x08, {3, 2}, ubytes({9, 8, 7, 6, 5, 4}));
  IdxArray plain, zipped;
  ASSERT_TRUE(readIdxFile(dir.write("a-ubyte", content), &plain).ok());
  // Gzip is recognized by its magic bytes, not by its name.
  Status s = readIdxFile(dir.write("b-ubyte", gzip(content)), &zipped);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(plain.dims, zipped.dims);
  EXPECT_EQ(plain.data, zipped.data);
  EXPECT_EQ(zipped.data, (std::vector<uint8_t>{9, 8, 7, 6, 5, 4}));
}

TEST(Idx, RejectsCorruptGzip) {
  TempDir dir;
  // Large enough for several deflate blocks of varied bytes.
  std::string payload;
  for (int i = 0; i < 200000; ++i)
    payload += char((i * 7919) % 251);
  std::string content = idx(0x08, {200000}, payload);
  std::string z = gzip(content);
  IdxArray a;

  Status s = readIdxFile(dir.write("t.gz", z.substr(0, z.size() / 2)), &a);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "'" + dir.path() +
                "/t.gz' is truncated (its gzip stream ends early)");

  // Without its 8-byte trailer (CRC-32 and size) the stream never ends.
  s = readIdxFile(dir.write("t8.gz", z.substr(0, z.size() - 8)), &a);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is truncated"), std::string::npos);

  std::string flipped = z;
  flipped[z.size() - 6] ^= 0x55; // the CRC-32
  s = readIdxFile(dir.write("crc.gz", flipped), &a);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is not valid gzip data (incorrect data check)"),
            std::string::npos)
      << s.message();

  s = readIdxFile(dir.write("trail.gz", z + "garbage"), &a);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("has data after the end of its gzip stream"),
            std::string::npos)
      << s.message();

  // A file whose header announces a little data but which inflates to much
  // more is stopped as soon as it passes the announced size.
  std::string bomb = gzip(idx(0x08, {4}, std::string(50 << 20, '\0')));
  s = readIdxFile(dir.write("bomb.gz", bomb), &a);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("has more bytes than its dimensions 4 describe"),
            std::string::npos)
      << s.message();

  // Not an IDX file inside the gzip: stopped at the header.
  s = readIdxFile(dir.write("png.gz", gzip("\x89PNG....")), &a);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is not an IDX file (bad magic"),
            std::string::npos);

  s = readIdxFile(dir.path() + "/missing.gz", &a);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("No such file or directory"), std::string::npos);
  s = readIdxFile(dir.path(), &a);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not a regular file"), std::string::npos);
}

TEST(Gunzip, RespectsItsLimit) {
  std::string out;
  std::string z = gzip(std::string(1000, 'a'));
  EXPECT_TRUE(gunzip(z, "z", 1000, &out).ok());
  EXPECT_EQ(out, std::string(1000, 'a'));
  Status s = gunzip(z, "z", 999, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "'z' decompresses to more than 999 bytes");
}

TEST(Dataset, LoadsNormalizesAndGathers) {
  TempDir dir;
  // Three 2x2 images and their labels.
  std::string images =
      idx(0x08, {3, 2, 2}, ubytes({0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8}));
  std::string labels = idx(0x08, {3}, ubytes({2, 0, 1}));
  ImageDataset d;
  Status s = loadIdxDataset(dir.write("i", images),
                            dir.write("l", gzip(labels)), 3, 0.5f, 0.25f, &d);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(d.count, 3);
  EXPECT_EQ(d.channels, 1);
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.cols, 2);
  int64_t indices[2] = {2, 0};
  float x[8];
  int64_t y[2];
  d.gather(indices, 2, x, y);
  EXPECT_EQ(y[0], 1);
  EXPECT_EQ(y[1], 2);
  auto norm = [](int v) { return (v / 255.0 - 0.5) / 0.25; };
  EXPECT_NEAR(x[0], norm(5), 1e-5);
  EXPECT_NEAR(x[3], norm(8), 1e-5);
  EXPECT_NEAR(x[4], norm(0), 1e-5);
  EXPECT_NEAR(x[5], norm(255), 1e-5);
  EXPECT_NEAR(x[6], norm(51), 1e-5);
}

TEST(Dataset, RejectsInconsistentFiles) {
  TempDir dir;
  std::string images = dir.write("i", idx(0x08, {2, 2, 2}, std::string(8, 1)));
  auto error = [&](const std::string &labels, int64_t classes) {
    ImageDataset d;
    Status s =
        loadIdxDataset(images, dir.write("l", labels), classes, 0, 1, &d);
    return s.ok() ? std::string("ok") : s.message();
  };
  EXPECT_EQ(error(idx(0x08, {2}, ubytes({0, 1})), 2), "ok");
  EXPECT_NE(
      error(idx(0x08, {3}, ubytes({0, 1, 1})), 2).find("has 2 images but"),
      std::string::npos);
  EXPECT_NE(error(idx(0x08, {2}, ubytes({0, 2})), 2)
                .find("label 2 of sample 1 is not below 2"),
            std::string::npos);
  EXPECT_NE(error(idx(0x0C, {2}, std::string(8, 0)), 2)
                .find("must hold N unsigned bytes"),
            std::string::npos);
  ImageDataset d;
  Status s =
      loadIdxDataset(dir.write("flat", idx(0x08, {8}, std::string(8, 1))),
                     dir.path() + "/l", 2, 0, 1, &d);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("(images)"), std::string::npos);
  s = loadFashionMnist(dir.path() + "/none", true, &d);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("does not exist"), std::string::npos);
  s = loadFashionMnist(dir.path(), true, &d);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("has neither 'train-images-idx3-ubyte' nor "
                             "'train-images-idx3-ubyte.gz'"),
            std::string::npos);
}

TEST(Dataset, EpochOrderIsASeededPermutation) {
  std::vector<int64_t> a = epochOrder(1000, 7, 0), b = epochOrder(1000, 7, 0);
  EXPECT_EQ(a, b);
  std::set<int64_t> seen(a.begin(), a.end());
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), 999);
  EXPECT_NE(a, epochOrder(1000, 7, 1));
  EXPECT_NE(a, epochOrder(1000, 8, 0));
  std::vector<int64_t> identity = epochOrder(5, 7, 0, /*shuffle=*/false);
  EXPECT_EQ(identity, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  // Shuffled: few elements stay in place (expected 1 of 1000).
  int fixed = 0;
  for (size_t i = 0; i < a.size(); ++i)
    fixed += a[i] == int64_t(i);
  EXPECT_LT(fixed, 10);
}

TEST(Dataset, FashionMnistHasItsPublishedCounts) {
  std::string dir = kFashionMnistDir;
  if (::access((dir + "/t10k-labels-idx1-ubyte.gz").c_str(), R_OK) != 0)
    GTEST_SKIP() << "Fashion-MNIST is not installed (dataset-fashion-mnist)";
  for (bool train : {false, true}) {
    ImageDataset d;
    Status s = loadFashionMnist(dir, train, &d);
    ASSERT_TRUE(s.ok()) << s.message();
    // 60,000 training and 10,000 test images of 28x28, classes balanced.
    int64_t count = train ? 60000 : 10000;
    EXPECT_EQ(d.count, count);
    EXPECT_EQ(d.rows, 28);
    EXPECT_EQ(d.cols, 28);
    EXPECT_EQ(d.classes, 10);
    std::vector<int64_t> perClass(10);
    for (uint8_t l : d.labels)
      ++perClass[l];
    for (int64_t c : perClass)
      EXPECT_EQ(c, count / 10);
    // Normalized with the training set's mean and std: over the training
    // set, mean 0 and std 1 (within the rounding of the published values).
    if (train) {
      double sum = 0, sumSq = 0;
      for (uint8_t p : d.pixels) {
        double v = (p / 255.0 - 0.2860) / 0.3530;
        sum += v;
        sumSq += v * v;
      }
      double n = double(d.pixels.size()), mean = sum / n;
      EXPECT_NEAR(mean, 0.0, 1e-3);
      EXPECT_NEAR(std::sqrt(sumSq / n - mean * mean), 1.0, 1e-3);
    }
  }
}

TEST(Synthetic, DrawsSeededBatchesOfTheGivenTypes) {
  std::vector<TensorSpec> specs(2);
  specs[0] = {"x", DType::F32, {4, 3}, 2};
  specs[1] = {"labels", DType::I64, {4}, 5};
  SyntheticBatches a, b;
  ASSERT_TRUE(SyntheticBatches::create(specs, 3, 11, &a).ok());
  ASSERT_TRUE(SyntheticBatches::create(specs, 3, 11, &b).ok());
  ASSERT_EQ(a.size(), 3);
  for (int64_t i = 0; i < 3; ++i)
    for (size_t k = 0; k < 2; ++k)
      EXPECT_EQ(a.tensor(i, k), b.tensor(i, k));
  EXPECT_NE(a.tensor(0, 0), a.tensor(1, 0));
  EXPECT_EQ(a.tensor(0, 0).size(), 48u);
  for (int64_t i = 0; i < 3; ++i) {
    int64_t labels[4];
    std::memcpy(labels, a.tensor(i, 1).data(), sizeof labels);
    for (int64_t l : labels) {
      EXPECT_GE(l, 0);
      EXPECT_LT(l, 5);
    }
  }
  EXPECT_FALSE(SyntheticBatches::create(specs, 0, 11, &a).ok());
}
