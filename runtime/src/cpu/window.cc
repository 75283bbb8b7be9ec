// window.cc - reading a window op's geometry (see window.h).

#include "window.h"

namespace mlg_rt::cpu {

Status readWindow(const KernelCall &c, const Tensor &x,
                  const std::vector<int64_t> &kernel, bool ceilMode, Window &w,
                  std::vector<int64_t> &shape) {
  int64_t spatial = x.rank() - 2;
  if (spatial < 1 || spatial > kMaxSpatial)
    return c.error("needs tensors [N, C, spatial...] with 1 to ", kMaxSpatial,
                   " spatial dimensions, got rank ", x.rank());
  auto strides = c.attrs().getInts("strides");
  auto pads = c.attrs().getInts("pads");
  auto dilations = c.attrs().getInts("dilations");
  if (!strides || !pads || !dilations)
    return c.error("needs the strides, pads and dilations attributes");
  size_t n = size_t(spatial);
  if (kernel.size() != n || strides->size() != n || dilations->size() != n ||
      pads->size() != 2 * n)
    return c.error("tensors of rank ", x.rank(), " need ", spatial,
                   " kernel sizes, strides and dilations and ", 2 * spatial,
                   " pads");
  int64_t lead = kMaxSpatial - spatial;
  for (int64_t i = 0; i < kMaxSpatial; ++i) {
    if (i < lead) {
      w.in[i] = w.out[i] = w.kernel[i] = w.stride[i] = w.dilation[i] = 1;
      w.padBegin[i] = w.padEnd[i] = 0;
      continue;
    }
    size_t a = size_t(i - lead);
    w.in[i] = x.dim(2 + int64_t(a));
    w.kernel[i] = kernel[a];
    w.stride[i] = (*strides)[a];
    w.dilation[i] = (*dilations)[a];
    w.padBegin[i] = (*pads)[a];
    w.padEnd[i] = (*pads)[a + n];
    std::optional<int64_t> size =
        windowOutputSize(w.in[i], w.kernel[i], w.stride[i], w.dilation[i],
                         w.padBegin[i], w.padEnd[i], ceilMode);
    if (!size)
      return c.error("spatial dimension ", a, " of size ", w.in[i],
                     " (padded by ", w.padBegin[i], " and ", w.padEnd[i],
                     ") cannot hold a window of size ", w.kernel[i],
                     " with dilation ", w.dilation[i], " and stride ",
                     w.stride[i]);
    w.out[i] = *size;
    shape.push_back(*size);
  }
  return Status();
}

Status readConvGeometry(const KernelCall &c, const Tensor &x, const Tensor &wt,
                        ConvGeometry &g, std::vector<int64_t> &shape) {
  auto group = c.attrs().getInt("group");
  if (!group || *group <= 0)
    return c.error("needs a positive group attribute");
  g.batch = x.dim(0);
  g.channels = x.dim(1);
  g.filters = wt.dim(0);
  g.group = *group;
  if (g.channels % g.group != 0 || g.filters % g.group != 0 ||
      wt.dim(1) != g.channels / g.group)
    return c.error("group ", g.group, " must divide the ", g.channels,
                   " input channels and the ", g.filters,
                   " filters, and the weight must hold channels / group = ",
                   g.channels / g.group, " channels, got ", wt.dim(1));
  std::vector<int64_t> kernel(wt.shape->begin() + 2, wt.shape->end());
  shape = {g.batch, g.filters};
  return readWindow(c, x, kernel, false, g.w, shape);
}

Status checkIm2colWorkspace(const KernelCall &c, const Tensor &wt,
                            const std::vector<int64_t> &shape, DType t) {
  std::optional<int64_t> bytes = wt.dim(1);
  for (int64_t d = 2; d < wt.rank(); ++d)
    bytes = bytes ? mulChecked(*bytes, wt.dim(d)) : bytes;
  for (size_t d = 2; d < shape.size(); ++d)
    bytes = bytes ? mulChecked(*bytes, shape[d]) : bytes;
  bytes = bytes ? mulChecked(*bytes, dtypeBytes(t)) : bytes;
  if (!bytes || c.workspaceBytes < uint64_t(*bytes))
    return c.error("needs a workspace of ", bytes ? *bytes : -1,
                   " bytes for its im2col matrix, has ", c.workspaceBytes);
  return Status();
}

} // namespace mlg_rt::cpu
