// dataset.h - labeled image data sets in memory, and their batches.
//
// An ImageDataset holds N images of C x H x W bytes and N class labels, as
// they come from IDX files; batches are gathered from it on demand, each
// image scaled to [0, 1] and normalized with the data set's mean and
// standard deviation into float32, each label widened to int64. An epoch
// visits every sample once in an order drawn from a seed and the epoch's
// number (the same seed gives the same order on every machine).

#ifndef MLG_RT_SRC_DATA_DATASET_H
#define MLG_RT_SRC_DATA_DATASET_H

#include "status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlg_rt::data {

struct ImageDataset {
  std::string name;
  int64_t count = 0;
  int64_t channels = 1, rows = 0, cols = 0;
  int64_t classes = 0;
  /// Per-channel normalization: (pixel / 255 - mean) / std.
  float mean = 0.0f, std = 1.0f;
  std::vector<uint8_t> pixels; // count x channels x rows x cols
  std::vector<uint8_t> labels; // count

  int64_t imageNumel() const { return channels * rows * cols; }
  /// Writes the samples `indices[0..n)` into `images` (n x imageNumel()
  /// floats) and `labels` (n int64s).
  void gather(const int64_t *indices, size_t n, float *images,
              int64_t *labels) const;
};

/// Reads images (an IDX array of N x H x W or N x C x H x W unsigned bytes)
/// and labels (N unsigned bytes, each below `classes`) from IDX files,
/// plain or gzip, and checks that they agree.
Status loadIdxDataset(const std::string &imagesPath,
                      const std::string &labelsPath, int64_t classes,
                      float mean, float std, ImageDataset *out);

/// Where Debian's dataset-fashion-mnist package installs Fashion-MNIST.
inline constexpr const char *kFashionMnistDir =
    "/usr/share/datasets/fashion-mnist";

/// Fashion-MNIST's training (`train`) or test (`t10k`) split from `dir`:
/// {train,t10k}-{images-idx3,labels-idx1}-ubyte, each plain or .gz.
/// Normalized with Fashion-MNIST's mean and standard deviation (0.2860,
/// 0.3530); 10 classes.
Status loadFashionMnist(const std::string &dir, bool train, ImageDataset *out);

/// The order of the samples in epoch `epoch`: a permutation of [0, count)
/// drawn from `seed` and `epoch` (Fisher-Yates over a 64-bit Mersenne
/// Twister; the identity if `shuffle` is false).
std::vector<int64_t> epochOrder(int64_t count, uint64_t seed, uint64_t epoch,
                                bool shuffle = true);

} // namespace mlg_rt::data

#endif // MLG_RT_SRC_DATA_DATASET_H
