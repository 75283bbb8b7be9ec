//===- MemoryReport.cpp - where the memory of a program goes --------------===//
//
// JSON (format version 1), one object per function:
//   name, steps, load_bytes, peak_step, peak_op, arena_bytes (null if not
//   planned), arena_over_load, parameter_bytes, constant_bytes, input_bytes,
//   peak_bytes (arena, or LOAD if not planned, plus parameters and
//   constants), live_bytes (per step), largest_at_peak (the biggest buffers
//   live at the peak), tensors (every value: name, op, kind, bytes, start,
//   end, refs, buffer, offset) and buffers (bytes, interval, offset, values,
//   workspace_of).
// SVG: live bytes per step as an area, the biggest buffers at the peak as
// colored bands stacked at the bottom, the arena as a dashed line, the peak
// as a marked vertical line, and a legend naming the biggest buffers.
//
//===----------------------------------------------------------------------===//

#include "mlg/Report/MemoryReport.h"

#include "mlg/Passes/Transforms/MemoryPlan.h"
#include "mlg/Support/FileUtils.h"
#include "mlg/Support/Format.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlg;

static const char *kindName(EdgeUseRef::Kind kind) {
  switch (kind) {
  case EdgeUseRef::Kind::Input:
    return "input";
  case EdgeUseRef::Kind::Result:
    return "result";
  case EdgeUseRef::Kind::View:
    return "view";
  case EdgeUseRef::Kind::InPlace:
    return "in-place";
  case EdgeUseRef::Kind::Parameter:
    return "parameter";
  case EdgeUseRef::Kind::Constant:
    return "constant";
  }
  return "unknown";
}

namespace {
/// What the report says of one buffer.
struct BufferFacts {
  std::string name;
  std::optional<int64_t> offset;
};
} // namespace

static SmallVector<BufferFacts> describeBuffers(const EdgeUseRef &a) {
  SmallVector<BufferFacts> out;
  for (const EdgeUseRef::Buffer &b : a.getBuffers()) {
    BufferFacts f;
    if (b.workspaceOf) {
      f.name = "workspace of " + a.describe(b.workspaceOf);
      if (auto ws = getPlannedWorkspace(b.workspaceOf))
        f.offset = ws->first;
    } else {
      f.name = a.describe(b.root);
      f.offset = getPlannedOffset(a.getValues()[b.root].value);
    }
    out.push_back(std::move(f));
  }
  return out;
}

/// What -mlg-recompute chose and predicted (its `mlg.recompute` facts),
/// what it saved, and the recomputed ops (marked `mlg.recomputed`) with
/// their bytes.
static void writeRecompute(llvm::json::OStream &j, DictionaryAttr facts,
                           const EdgeUseRef &a) {
  j.attributeObject("recompute", [&] {
    for (NamedAttribute fact : facts) {
      if (auto flag = dyn_cast<BoolAttr>(fact.getValue()))
        j.attribute(fact.getName(), flag.getValue());
      else if (auto i = dyn_cast<IntegerAttr>(fact.getValue()))
        j.attribute(fact.getName(), i.getInt());
      else if (auto f = dyn_cast<FloatAttr>(fact.getValue()))
        j.attribute(fact.getName(), f.getValueAsDouble());
      else if (auto s = dyn_cast<StringAttr>(fact.getValue()))
        j.attribute(fact.getName(), s.getValue());
    }
    if (auto before = facts.getAs<IntegerAttr>("load_before"))
      j.attribute("saved_bytes", before.getInt() - a.getLoad());
    auto seconds = facts.getAs<FloatAttr>("step_seconds");
    auto extra = facts.getAs<FloatAttr>("extra_seconds");
    if (seconds && extra && seconds.getValueAsDouble() > 0)
      j.attribute("predicted_overhead",
                  extra.getValueAsDouble() / seconds.getValueAsDouble());
    j.attributeArray("recomputed", [&] {
      for (Operation *op : a.getSteps()) {
        if (!op->hasAttr("mlg.recomputed"))
          continue;
        int64_t bytes = 0;
        for (Value r : op->getResults())
          if (auto v = a.lookup(r))
            bytes += a.getValues()[*v].bytes;
        j.object([&] {
          j.attribute("op", a.describe(op));
          j.attribute("step", a.getStep(op));
          j.attribute("bytes", bytes);
        });
      }
    });
  });
}

void mlg::writeMemoryReportJson(FunctionOpInterface function,
                                const EdgeUseRef &a, raw_ostream &os,
                                const MemoryReportOptions &options) {
  SmallVector<BufferFacts> facts = describeBuffers(a);
  std::optional<int64_t> arena = getPlannedArenaSize(function);
  int64_t load = a.getLoad();
  llvm::json::OStream j(os, /*IndentSize=*/1);
  j.object([&] {
    j.attribute("name", function.getName());
    j.attribute("steps", static_cast<int64_t>(a.getSteps().size()));
    j.attribute("load_bytes", load);
    j.attribute("peak_step", a.getPeakStep());
    j.attribute("peak_op", a.getSteps().empty()
                               ? std::string()
                               : a.describe(a.getSteps()[a.getPeakStep()]));
    if (arena) {
      j.attribute("arena_bytes", *arena);
      j.attribute("arena_over_load", load ? double(*arena) / load : 1.0);
    } else {
      j.attribute("arena_bytes", nullptr);
      j.attribute("arena_over_load", nullptr);
    }
    j.attribute("parameter_bytes", a.getParameterBytes());
    j.attribute("constant_bytes", a.getConstantBytes());
    j.attribute("input_bytes", a.getInputBytes());
    j.attribute("peak_bytes", arena.value_or(load) + a.getParameterBytes() +
                                  a.getConstantBytes());
    if (auto facts = function->getAttrOfType<DictionaryAttr>("mlg.recompute"))
      writeRecompute(j, facts, a);
    // Numbers per step on one line: the array is as long as the schedule.
    j.attributeBegin("live_bytes");
    raw_ostream &raw = j.rawValueBegin();
    raw << "[";
    llvm::interleave(a.getLiveBytes(), raw, ", ");
    raw << "]";
    j.rawValueEnd();
    j.attributeEnd();
    j.attributeArray("largest_at_peak", [&] {
      unsigned n = 0;
      for (unsigned b : a.getBuffersLiveAt(a.getPeakStep())) {
        if (n++ == options.largestAtPeak)
          break;
        const EdgeUseRef::Buffer &buf = a.getBuffers()[b];
        j.object([&] {
          j.attribute("buffer", b);
          j.attribute("name", facts[b].name);
          j.attribute("bytes", buf.interval.bytes);
          j.attribute("start", buf.interval.start);
          j.attribute("end", buf.interval.end);
        });
      }
    });
    j.attributeArray("tensors", [&] {
      for (auto [i, v] : llvm::enumerate(a.getValues())) {
        j.object([&] {
          j.attribute("id", static_cast<int64_t>(i));
          j.attribute("name", a.describe(i));
          j.attribute("kind", kindName(v.kind));
          j.attribute("bytes", v.bytes);
          j.attribute("start", v.def);
          j.attribute("end", v.lastUse);
          j.attribute("refs", static_cast<int64_t>(v.refs));
          if (v.buffer >= 0) {
            j.attribute("buffer", v.buffer);
            if (facts[v.buffer].offset)
              j.attribute("offset", *facts[v.buffer].offset);
          }
        });
      }
    });
    j.attributeArray("buffers", [&] {
      for (auto [i, b] : llvm::enumerate(a.getBuffers())) {
        j.object([&] {
          j.attribute("id", static_cast<int64_t>(i));
          j.attribute("name", facts[i].name);
          j.attribute("bytes", b.interval.bytes);
          j.attribute("start", b.interval.start);
          j.attribute("end", b.interval.end);
          if (facts[i].offset)
            j.attribute("offset", *facts[i].offset);
          if (b.workspaceOf)
            j.attribute("workspace_of", a.describe(b.workspaceOf));
          j.attributeBegin("values");
          raw_ostream &raw = j.rawValueBegin();
          raw << "[";
          llvm::interleave(b.values, raw, ", ");
          raw << "]";
          j.rawValueEnd();
          j.attributeEnd();
        });
      }
    });
  });
}

static std::string mib(int64_t bytes) { return formatBytes(bytes); }

static std::string escapeXml(StringRef s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += llvm::isPrint(c) ? c : '?';
    }
  }
  return out;
}

void mlg::writeMemoryReportSvg(FunctionOpInterface function,
                               const EdgeUseRef &a, raw_ostream &os,
                               const MemoryReportOptions &options) {
  static const char *colors[] = {"#e6550d", "#31a354", "#756bb1", "#d6616b",
                                 "#e7ba52", "#3182bd", "#8c6d31", "#636363"};
  SmallVector<unsigned> biggest = a.getBuffersLiveAt(a.getPeakStep());
  biggest.truncate(
      std::min<size_t>({biggest.size(), options.largestAtPeak, 8}));

  const double width = 1000, left = 80, right = 30, top = 60, plotH = 380;
  const double plotW = width - left - right;
  const double legendTop = top + plotH + 60;
  const double height = legendTop + 18 * ((biggest.size() + 1) / 2) + 20;
  const std::vector<int64_t> &live = a.getLiveBytes();
  // The prologue (constants, parameter loads) moves no memory: the x axis
  // starts at the first step that computes.
  int64_t first = 0, steps = std::max<int64_t>(live.size(), 1);
  ArrayRef<Operation *> ops = a.getSteps();
  while (first + 1 < steps && (ops[first]->hasTrait<OpTrait::ConstantLike>() ||
                               ops[first]->getNumOperands() == 0))
    ++first;
  std::optional<int64_t> arena = getPlannedArenaSize(function);
  int64_t ymax = std::max<int64_t>({a.getLoad(), arena.value_or(0), 1});
  auto x = [&](double step) {
    return left + plotW * (step - first) / (steps - first);
  };
  auto y = [&](double bytes) {
    return top + plotH * (1 - bytes / (ymax * 1.08));
  };
  SmallVector<BufferFacts> facts = describeBuffers(a);

  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
     << "\" height=\"" << height
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  os << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << left << "\" y=\"24\" font-size=\"16\">Live memory of @"
     << escapeXml(function.getName()) << ": LOAD " << mib(a.getLoad());
  if (arena)
    os << ", arena " << mib(*arena);
  os << ", parameters " << mib(a.getParameterBytes());
  if (auto r = function->getAttrOfType<DictionaryAttr>("mlg.recompute")) {
    auto before = r.getAs<IntegerAttr>("load_before");
    auto cloned = r.getAs<IntegerAttr>("cloned");
    auto policy = r.getAs<StringAttr>("policy");
    if (before && cloned && policy)
      os << "; recomputing " << cloned.getInt() << " ops ("
         << escapeXml(policy.getValue()) << ") saved "
         << mib(before.getInt() - a.getLoad());
  }
  os << "</text>\n";

  // Axes and grid.
  for (int i = 0; i <= 5; ++i) {
    double bytes = ymax * 1.08 * i / 5;
    os << "<line x1=\"" << left << "\" x2=\"" << left + plotW << "\" y1=\""
       << y(bytes) << "\" y2=\"" << y(bytes) << "\" stroke=\"#ddd\"/>\n";
    os << "<text x=\"" << left - 6 << "\" y=\"" << y(bytes) + 4
       << "\" text-anchor=\"end\">" << mib(static_cast<int64_t>(bytes))
       << "</text>\n";
  }
  os << "<text x=\"" << left + plotW / 2 << "\" y=\"" << top + plotH + 30
     << "\" text-anchor=\"middle\">step (schedule order; steps " << first
     << " to " << steps - 1 << ")</text>\n";

  // Live bytes as an area: one step is one column.
  os << "<path fill=\"#c6d4e6\" stroke=\"#3b6aa0\" stroke-width=\"1\" d=\"M "
     << x(first) << " " << y(0);
  for (int64_t s = first; s < static_cast<int64_t>(live.size()); ++s)
    os << " L " << x(s) << " " << y(live[s]) << " L " << x(s + 1) << " "
       << y(live[s]);
  os << " L " << x(steps) << " " << y(0) << " Z\"/>\n";

  // The biggest buffers at the peak, stacked from the bottom over their
  // intervals, in the order of the legend.
  std::vector<int64_t> base(steps, 0);
  for (auto [k, b] : llvm::enumerate(biggest)) {
    const LiveInterval &iv = a.getBuffers()[b].interval;
    for (int64_t s = std::max(iv.start, first); s <= iv.end && s < steps; ++s) {
      os << "<rect x=\"" << x(s) << "\" width=\""
         << std::max(x(s + 1) - x(s), 0.5) << "\" y=\"" << y(base[s] + iv.bytes)
         << "\" height=\"" << y(base[s]) - y(base[s] + iv.bytes) << "\" fill=\""
         << colors[k] << "\" opacity=\"0.85\"/>\n";
      base[s] += iv.bytes;
    }
  }
  if (arena) {
    os << "<line x1=\"" << left << "\" x2=\"" << left + plotW << "\" y1=\""
       << y(*arena) << "\" y2=\"" << y(*arena)
       << "\" stroke=\"black\" stroke-dasharray=\"6,4\"/>\n";
    os << "<text x=\"" << left + 4 << "\" y=\"" << y(*arena) - 5 << "\">arena "
       << mib(*arena) << "</text>\n";
  }
  // The peak, labelled above the plot.
  double px = x(a.getPeakStep() + 0.5);
  os << "<line x1=\"" << px << "\" x2=\"" << px << "\" y1=\"" << top - 6
     << "\" y2=\"" << top + plotH
     << "\" stroke=\"#c00\" stroke-width=\"1.5\"/>\n";
  os << "<circle cx=\"" << px << "\" cy=\"" << y(a.getLoad())
     << "\" r=\"4\" fill=\"#c00\"/>\n";
  std::string peakText = "peak " + mib(a.getLoad()) + " at step " +
                         std::to_string(a.getPeakStep());
  if (!ops.empty())
    peakText += ": " + a.describe(ops[a.getPeakStep()]);
  bool anchorEnd = px > left + plotW / 2;
  os << "<text x=\"" << (anchorEnd ? px - 6 : px + 6) << "\" y=\"" << top - 10
     << "\" fill=\"#c00\" text-anchor=\"" << (anchorEnd ? "end" : "start")
     << "\">" << escapeXml(peakText) << "</text>\n";
  // Legend below the plot: the biggest buffers live at the peak.
  os << "<text x=\"" << left << "\" y=\"" << legendTop - 14
     << "\">Largest tensors live at the peak:</text>\n";
  for (auto [k, b] : llvm::enumerate(biggest)) {
    double lx = left + (k % 2) * plotW / 2, ly = legendTop + 18 * (k / 2);
    os << "<rect x=\"" << lx << "\" y=\"" << ly - 10
       << "\" width=\"12\" height=\"12\" fill=\"" << colors[k] << "\"/>\n";
    std::string label =
        mib(a.getBuffers()[b].interval.bytes) + "  " + facts[b].name;
    if (label.size() > 62)
      label = label.substr(0, 59) + "...";
    os << "<text x=\"" << lx + 18 << "\" y=\"" << ly << "\">"
       << escapeXml(label) << "</text>\n";
  }
  os << "</svg>\n";
}

bool mlg::writeMemoryReport(ModuleOp module, StringRef jsonPath,
                            std::string &error,
                            const MemoryReportOptions &options) {
  SmallVector<std::pair<FunctionOpInterface, std::unique_ptr<EdgeUseRef>>>
      functions;
  module.walk([&](FunctionOpInterface f) {
    if (!f.isExternal())
      functions.push_back({f, std::make_unique<EdgeUseRef>(f)});
  });
  auto json = AtomicOutputFile::open(jsonPath, error);
  if (!json)
    return false;
  json->os() << "{\"version\": 1, \"functions\": [";
  for (auto [i, entry] : llvm::enumerate(functions)) {
    json->os() << (i ? ",\n" : "\n");
    writeMemoryReportJson(entry.first, *entry.second, json->os(), options);
  }
  json->os() << "\n]}\n";
  if (!json->commit(error))
    return false;
  if (functions.empty())
    return true;
  auto main = std::max_element(
      functions.begin(), functions.end(), [](const auto &a, const auto &b) {
        return a.second->getLoad() < b.second->getLoad();
      });
  SmallString<256> svgPath(jsonPath);
  llvm::sys::path::replace_extension(svgPath, ".svg");
  if (svgPath == jsonPath)
    svgPath += ".svg";
  auto svg = AtomicOutputFile::open(svgPath, error);
  if (!svg)
    return false;
  writeMemoryReportSvg(main->first, *main->second, svg->os(), options);
  return svg->commit(error);
}
