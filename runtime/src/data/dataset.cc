// dataset.cc - labeled image data sets in memory, and their batches.

#include "data/dataset.h"

#include "data/idx.h"

#include <sys/stat.h>

#include <random>

namespace mlg_rt::data {

void ImageDataset::gather(const int64_t *indices, size_t n, float *images,
                          int64_t *labelsOut) const {
  int64_t numel = imageNumel();
  const float scale = 1.0f / (255.0f * std);
  const float shift = mean / std;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t *src = pixels.data() + indices[i] * numel;
    float *dst = images + int64_t(i) * numel;
    for (int64_t e = 0; e < numel; ++e)
      dst[e] = float(src[e]) * scale - shift;
    labelsOut[i] = labels[size_t(indices[i])];
  }
}

Status loadIdxDataset(const std::string &imagesPath,
                      const std::string &labelsPath, int64_t classes,
                      float mean, float std, ImageDataset *out) {
  IdxArray images, labels;
  MLG_RT_RETURN_IF_ERROR(readIdxFile(imagesPath, &images));
  MLG_RT_RETURN_IF_ERROR(readIdxFile(labelsPath, &labels));
  if (images.type != IdxType::U8 ||
      (images.dims.size() != 3 && images.dims.size() != 4))
    return Status::errorf("'", imagesPath,
                          "' must hold unsigned bytes of N x H x W or N x C x "
                          "H x W (images)");
  if (labels.type != IdxType::U8 || labels.dims.size() != 1)
    return Status::errorf("'", labelsPath,
                          "' must hold N unsigned bytes (labels)");
  if (images.dims[0] != labels.dims[0])
    return Status::errorf("'", imagesPath, "' has ", images.dims[0],
                          " images but '", labelsPath, "' has ", labels.dims[0],
                          " labels");
  if (images.dims[0] == 0)
    return Status::errorf("'", imagesPath, "' holds no images");
  for (size_t d = 1; d < images.dims.size(); ++d)
    if (images.dims[d] == 0)
      return Status::errorf("'", imagesPath, "' has empty images");
  for (size_t i = 0; i < labels.data.size(); ++i)
    if (labels.data[i] >= classes)
      return Status::errorf("'", labelsPath, "': label ", int(labels.data[i]),
                            " of sample ", i, " is not below ", classes,
                            " (the number of classes)");
  bool withChannels = images.dims.size() == 4;
  out->count = images.dims[0];
  out->channels = withChannels ? images.dims[1] : 1;
  out->rows = images.dims[withChannels ? 2 : 1];
  out->cols = images.dims[withChannels ? 3 : 2];
  out->classes = classes;
  out->mean = mean;
  out->std = std;
  out->pixels = std::move(images.data);
  out->labels = std::move(labels.data);
  return Status();
}

static bool isFile(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Status loadFashionMnist(const std::string &dir, bool train, ImageDataset *out) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::errorf(
        "the Fashion-MNIST directory '", dir,
        "' does not exist (Debian's dataset-fashion-mnist installs it in ",
        kFashionMnistDir, ")");
  std::string split = train ? "train" : "t10k";
  std::string paths[2];
  const char *kinds[2] = {"images-idx3", "labels-idx1"};
  for (int k = 0; k < 2; ++k) {
    std::string base = dir + "/" + split + "-" + kinds[k] + "-ubyte";
    if (isFile(base))
      paths[k] = base;
    else if (isFile(base + ".gz"))
      paths[k] = base + ".gz";
    else
      return Status::errorf("'", dir, "' has neither '", split, "-", kinds[k],
                            "-ubyte' nor '", split, "-", kinds[k],
                            "-ubyte.gz'");
  }
  MLG_RT_RETURN_IF_ERROR(
      loadIdxDataset(paths[0], paths[1], 10, 0.2860f, 0.3530f, out));
  out->name = "Fashion-MNIST " + std::string(train ? "train" : "test");
  return Status();
}

std::vector<int64_t> epochOrder(int64_t count, uint64_t seed, uint64_t epoch,
                                bool shuffle) {
  std::vector<int64_t> order(size_t(std::max<int64_t>(count, 0)));
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = int64_t(i);
  if (!shuffle)
    return order;
  // seed_seq keeps 32 bits of each value.
  std::seed_seq seq{uint32_t(seed), uint32_t(seed >> 32), uint32_t(epoch),
                    uint32_t(epoch >> 32), uint32_t(0x64617461)};
  std::mt19937_64 rng(seq);
  // Fisher-Yates with a multiply-shift draw (std::shuffle's algorithm and
  // std::uniform_int_distribution differ between standard libraries).
  for (size_t i = order.size(); i > 1; --i) {
    uint64_t j = uint64_t((unsigned __int128)rng() * i >> 64);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

} // namespace mlg_rt::data
