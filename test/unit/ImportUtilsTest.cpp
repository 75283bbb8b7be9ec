//===- ImportUtilsTest.cpp - path rules, option parsing, atomic output ----===//
//
// External-data path resolution against real files and symbolic links in a
// temporary folder; --input-shape and --bind-input parsing; and the atomic
// output file, whose temporary must never be left behind.
//
//===----------------------------------------------------------------------===//

#include "../../lib/Import/Onnx/ModelFile.h"

#include "mlg/Import/Onnx/OnnxImporter.h"
#include "mlg/Support/FileUtils.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <unistd.h>

using namespace mlg;

namespace {

/// A temporary folder tree: root/models/ holds the model; root/ is outside.
class TempTree : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("mlg-unit", root));
    models = root;
    llvm::sys::path::append(models, "models");
    ASSERT_FALSE(llvm::sys::fs::create_directory(models));
    touch(path(models, "w.bin"));
    llvm::SmallString<256> sub = path(models, "sub");
    ASSERT_FALSE(llvm::sys::fs::create_directory(sub));
    touch(path(sub, "v.bin"));
    touch(path(root, "secret.bin"));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(root); }

  static llvm::SmallString<256> path(llvm::StringRef dir,
                                     llvm::StringRef name) {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, name);
    return p;
  }
  static void touch(llvm::StringRef p) {
    std::error_code ec;
    llvm::raw_fd_ostream os(p, ec);
    os << "data";
  }
  std::string resolve(llvm::StringRef location, std::string &why) {
    auto r = onnx_import::resolveExternalPath(models, location, why);
    return mlir::succeeded(r) ? *r : std::string();
  }

  llvm::SmallString<256> root, models;
};

TEST_F(TempTree, ExternalPathsInsideTheFolderResolve) {
  std::string why;
  EXPECT_NE(resolve("w.bin", why), "") << why;
  EXPECT_NE(resolve("sub/v.bin", why), "") << why;
  EXPECT_NE(resolve("./w.bin", why), "") << why;
}

TEST_F(TempTree, ExternalPathsLeavingTheFolderAreRejected) {
  std::string why;
  EXPECT_EQ(resolve("../secret.bin", why), "");
  EXPECT_NE(why.find("leaves the model's folder"), std::string::npos) << why;
  EXPECT_EQ(resolve("sub/../../secret.bin", why), "");
  EXPECT_EQ(resolve(path(root, "secret.bin"), why), "");
  EXPECT_NE(why.find("absolute"), std::string::npos) << why;
  EXPECT_EQ(resolve("..\\secret.bin", why), "");
  EXPECT_EQ(resolve("", why), "");
  EXPECT_EQ(resolve("missing.bin", why), "");
  EXPECT_NE(why.find("does not exist"), std::string::npos) << why;
}

TEST_F(TempTree, SymbolicLinksOutOfTheFolderAreRejected) {
  ASSERT_EQ(::symlink(path(root, "secret.bin").c_str(),
                      path(models, "out.bin").c_str()),
            0);
  ASSERT_EQ(::symlink(root.c_str(), path(models, "up").c_str()), 0);
  ASSERT_EQ(
      ::symlink(path(models, "w.bin").c_str(), path(models, "in.bin").c_str()),
      0);
  std::string why;
  EXPECT_EQ(resolve("out.bin", why), "");
  EXPECT_NE(why.find("symbolic link"), std::string::npos) << why;
  EXPECT_EQ(resolve("up/secret.bin", why), "");
  EXPECT_NE(resolve("in.bin", why), "") << why; // a link that stays inside
}

TEST(OptionParsing, InputShape) {
  std::string name, error;
  std::vector<int64_t> dims;
  ASSERT_TRUE(parseInputShapeSpec("input:1000x64", name, dims, error)) << error;
  EXPECT_EQ(name, "input");
  EXPECT_EQ(dims, (std::vector<int64_t>{1000, 64}));
  // Names may contain colons: the last one separates the shape.
  ASSERT_TRUE(parseInputShapeSpec("onnx::x:3", name, dims, error)) << error;
  EXPECT_EQ(name, "onnx::x");
  EXPECT_EQ(dims, (std::vector<int64_t>{3}));
  ASSERT_TRUE(parseInputShapeSpec("scalar:", name, dims, error)) << error;
  EXPECT_TRUE(dims.empty());
  EXPECT_FALSE(parseInputShapeSpec("input", name, dims, error));
  EXPECT_FALSE(parseInputShapeSpec(":3x4", name, dims, error));
  EXPECT_FALSE(parseInputShapeSpec("x:3x-1", name, dims, error));
  EXPECT_FALSE(parseInputShapeSpec("x:3xx4", name, dims, error));
  EXPECT_FALSE(
      parseInputShapeSpec("x:99999999999999999999", name, dims, error));
}

TEST(OptionParsing, BindInput) {
  std::string name, path, error;
  ASSERT_TRUE(parseBindInputSpec("shape=/tmp/a=b.pb", name, path, error));
  EXPECT_EQ(name, "shape");
  EXPECT_EQ(path, "/tmp/a=b.pb");
  EXPECT_FALSE(parseBindInputSpec("shape=", name, path, error));
  EXPECT_FALSE(parseBindInputSpec("=x.pb", name, path, error));
}

TEST_F(TempTree, AtomicOutputReplacesOnlyOnCommit) {
  llvm::SmallString<256> out = path(root, "out.txt");
  touch(out);
  std::string error;
  {
    auto file = AtomicOutputFile::open(out, error);
    ASSERT_TRUE(file) << error;
    file->os() << "new contents";
    // Dropped without a commit: the old file stays, the temporary goes.
  }
  auto read = [&]() {
    auto buffer = llvm::MemoryBuffer::getFile(out);
    return buffer ? (*buffer)->getBuffer().str() : std::string("<missing>");
  };
  EXPECT_EQ(read(), "data");
  {
    auto file = AtomicOutputFile::open(out, error);
    ASSERT_TRUE(file) << error;
    file->os() << "new contents";
    ASSERT_TRUE(file->commit(error)) << error;
  }
  EXPECT_EQ(read(), "new contents");
  std::error_code ec;
  int entries = 0;
  for (llvm::sys::fs::directory_iterator it(root, ec), end; it != end && !ec;
       it.increment(ec))
    ++entries;
  EXPECT_EQ(entries, 3); // models/, secret.bin, out.txt: no temporary left
  EXPECT_FALSE(AtomicOutputFile::open(models, error))
      << "a directory is no output";
}

} // namespace
