// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "bank/hnsw_index.hpp"
#include "bank/knn_search.hpp"
#include "bank/simd_kernels.hpp"
#include "io/binary_payload.hpp"
#include "io/persistence.hpp"

#include <cfloat>

#ifdef DMAD_HAVE_HNSWLIB
/* Without hnswlib's SSE code: its prefetches read one link past the end of a link list (a heap
   overflow AddressSanitizer reports, hnswlib 0.6.2), and its distances are not used here. */
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>
#endif

namespace cv {
namespace dmad {

bool hnswAvailable()
{
#ifdef DMAD_HAVE_HNSWLIB
    return true;
#else
    return false;
#endif
}

#ifdef DMAD_HAVE_HNSWLIB

namespace {

/** The graph's own copy of the vectors, and its distance: float16 whatever the bank's type (the
    graph only ranks candidates, whose distances are then recomputed exactly from the bank), with
    the kernels chosen at run time (hnswlib's L2 space picks its SIMD code at compile time, which a
    library that runs on every x86-64 cannot use). A visited entry costs 2 D bytes, not 4 D. */
class HalfL2Space : public hnswlib::SpaceInterface<float>
{
public:
    explicit HalfL2Space(int dims) : dims_((size_t)dims) {}
    /* hnswlib lays each entry out as links, vector, label: a vector of a multiple of 8 bytes keeps
       the next entry's links (int) and label (size_t) aligned. */
    static size_t paddedDims(int dims) { return ((size_t)dims + 3) & ~(size_t)3; }
    size_t get_data_size() override { return paddedDims((int)dims_) * sizeof(uint16_t); }
    hnswlib::DISTFUNC<float> get_dist_func() override { return &distance; }
    void* get_dist_func_param() override { return &dims_; }

private:
    static float distance(const void* a, const void* b, const void* dims)
    {
        return kernels::bestKernels().squaredDistanceHalf((const uint16_t*)a, (const uint16_t*)b,
                                                          (int)*(const size_t*)dims);
    }
    size_t dims_;
};

typedef hnswlib::HierarchicalNSW<float> Graph;

} // namespace

struct HnswIndex::Impl
{
    Mat bank;  //!< the bank as given (for the exact recomputation)
    HalfL2Space space;
    std::unique_ptr<Graph> graph;
    int M = 0, efConstruction = 0;

    explicit Impl(const Mat& b) : bank(b), space(b.cols) {}

    //! Rows of the bank, or queries, as the graph stores them (float16 bit patterns, zero padded).
    static void toHalf(const Mat& row, std::vector<uint16_t>& out)
    {
        out.assign(HalfL2Space::paddedDims(row.cols), 0);
        Mat half(1, row.cols, CV_16F, out.data());
        if (row.depth() == CV_16F)
            row.copyTo(half);
        else
            row.convertTo(half, CV_16F);
    }
};

HnswIndex::HnswIndex(const Mat& bank, int M, int efConstruction, int efSearch, uint64 seed) : impl_(new Impl(bank))
{
    CV_TRACE_FUNCTION();
    CV_Assert(!bank.empty() && (bank.depth() == CV_32F || bank.depth() == CV_16F));
    impl_->M = M;
    impl_->efConstruction = efConstruction;
    impl_->graph.reset(new Graph(&impl_->space, (size_t)bank.rows, (size_t)M, (size_t)efConstruction,
                                 (size_t)seed));
    // The first entry alone, then the rest in parallel (hnswlib's inserts are thread-safe). The
    // graph depends on the insertion order, so on the thread count: recall, not results, is what
    // is the same for every run.
    std::vector<uint16_t> row;
    Impl::toHalf(bank.row(0), row);
    impl_->graph->addPoint(row.data(), 0);
    parallel_for_(Range(1, bank.rows), [&](const Range& r) {
        std::vector<uint16_t> buffer;
        for (int i = r.start; i < r.end; i++)
        {
            Impl::toHalf(bank.row(i), buffer);
            impl_->graph->addPoint(buffer.data(), (size_t)i);
        }
    });
    impl_->graph->setEf((size_t)efSearch);  // once: searches only read it
}

HnswIndex::HnswIndex(const Mat& bank, const FileNode& node, int efSearch, const String& where)
    : impl_(new Impl(bank))
{
    const int N = bank.rows;
    impl_->M = persistence::readInt(node, "M", where);
    impl_->efConstruction = persistence::readInt(node, "ef_construction", where);
    const int maxLevel = persistence::readInt(node, "max_level", where);
    const int entryPoint = persistence::readInt(node, "entry_point", where);
    if (impl_->M < 2 || impl_->M > 1000 || impl_->efConstruction < 1 || maxLevel < 0 || maxLevel > 64 ||
        entryPoint < 0 || entryPoint >= N)
        CV_Error(Error::StsParseError, cv::format("dmad: %s: invalid HNSW header (M %d, max level %d, "
                                                  "entry %d of %d)", where.c_str(), impl_->M, maxLevel,
                                                  entryPoint, N));
    const Mat ground = persistence::readPayload(node["ground_links"], "ground_links", where);
    const Mat labels = persistence::readPayload(node["labels"], "labels", where);
    const Mat levels = persistence::readPayload(node["levels"], "levels", where);
    const Mat upper = persistence::readPayload(node["upper_links"], "upper_links", where);
    impl_->graph.reset(new Graph(&impl_->space, (size_t)N, (size_t)impl_->M, (size_t)impl_->efConstruction));
    Graph& g = *impl_->graph;
    const int groundInts = (int)(g.size_links_level0_ / sizeof(int)), upperInts = (int)(g.size_links_per_element_ / sizeof(int));
    if (ground.type() != CV_32S || ground.rows != N || ground.cols != groundInts || labels.type() != CV_32S ||
        (int)labels.total() != N || levels.type() != CV_32S || (int)levels.total() != N ||
        (upper.total() > 0 && upper.type() != CV_32S))
        CV_Error(Error::StsParseError, cv::format("dmad: %s: the HNSW graph does not fit a bank of %d entries "
                                                  "with M = %d", where.c_str(), N, impl_->M));
    int64 upperTotal = 0;
    for (int i = 0; i < N; i++)
    {
        const int level = levels.at<int>(i), label = labels.at<int>(i);
        if (level < 0 || level > maxLevel || label < 0 || label >= N)
            CV_Error(Error::StsParseError, cv::format("dmad: %s: HNSW entry %d is damaged", where.c_str(), i));
        upperTotal += (int64)level * upperInts;
    }
    if (upperTotal != (int64)upper.total())
        CV_Error(Error::StsParseError, cv::format("dmad: %s: HNSW upper links hold %d values, %lld expected",
                                                  where.c_str(), (int)upper.total(), (long long)upperTotal));
    /* Every link on level `level` must name an entry that reaches that level: hnswlib follows it
       into that entry's link list of the level, which a lower entry does not have. */
    auto checkLinks = [&](const int* list, int capacity, int level) {
        const int count = (int)(*(const unsigned*)list & 0xffff);
        if (count > capacity - 1)
            return false;
        for (int j = 1; j <= count; j++)
            if (list[j] < 0 || list[j] >= N || levels.at<int>(list[j]) < level)
                return false;
        return true;
    };
    std::vector<uint16_t> row;
    const int* up = upper.empty() ? nullptr : upper.ptr<int>();
    for (int i = 0; i < N; i++)
    {
        const int level = levels.at<int>(i);
        if (!checkLinks(ground.ptr<int>(i), groundInts, 0))
            CV_Error(Error::StsParseError, cv::format("dmad: %s: HNSW entry %d has damaged links", where.c_str(), i));
        char* element = g.data_level0_memory_ + (size_t)i * g.size_data_per_element_;
        std::memcpy(element + g.offsetLevel0_, ground.ptr<int>(i), g.size_links_level0_);
        Impl::toHalf(bank.row(labels.at<int>(i)), row);
        std::memcpy(element + g.offsetData_, row.data(), g.data_size_);
        const hnswlib::labeltype label = (hnswlib::labeltype)labels.at<int>(i);
        std::memcpy(element + g.label_offset_, &label, sizeof(label));
        g.element_levels_[i] = level;
        g.linkLists_[i] = nullptr;
        if (level > 0)
        {
            for (int l = 0; l < level; l++)
                if (!checkLinks(up + (size_t)l * upperInts, upperInts, l + 1))
                    CV_Error(Error::StsParseError, cv::format("dmad: %s: HNSW entry %d has damaged links",
                                                              where.c_str(), i));
            g.linkLists_[i] = (char*)malloc(g.size_links_per_element_ * level);
            if (!g.linkLists_[i])
                CV_Error(Error::StsNoMem, "dmad: out of memory reading an HNSW graph");
            std::memcpy(g.linkLists_[i], up, g.size_links_per_element_ * level);
            up += (size_t)level * upperInts;
        }
        g.label_lookup_[label] = (hnswlib::tableint)i;
        g.cur_element_count = (size_t)i + 1;  // the destructor frees linkLists_ up to here
    }
    g.maxlevel_ = maxLevel;
    g.enterpoint_node_ = (hnswlib::tableint)entryPoint;
    if (levels.at<int>(entryPoint) != maxLevel)
        CV_Error(Error::StsParseError, cv::format("dmad: %s: the HNSW entry point is not on the top level",
                                                  where.c_str()));
    g.setEf((size_t)efSearch);
}

HnswIndex::~HnswIndex() {}

void HnswIndex::search(const Mat& queries, int k, Mat& distances, Mat& indices) const
{
    CV_TRACE_FUNCTION();
    const int Q = queries.rows, kc = std::min(k + kExtraCandidates, impl_->bank.rows);
    Mat candidates(Q, kc, CV_32S, Scalar::all(-1));
    const Graph& g = *impl_->graph;
    parallel_for_(Range(0, Q), [&](const Range& r) {
        std::vector<uint16_t> query;
        for (int i = r.start; i < r.end; i++)
        {
            // hnswlib keeps max(ef, kc) candidates and returns the kc best, farthest first
            Impl::toHalf(queries.row(i), query);
            auto found = g.searchKnn(query.data(), (size_t)kc);
            int* row = candidates.ptr<int>(i);
            for (int j = (int)found.size() - 1; j >= 0; j--, found.pop())
                row[j] = (int)found.top().second;
        }
    });
    refineCandidates(queries, impl_->bank, candidates, k, distances, indices);
}

void HnswIndex::write(FileStorage& fs) const
{
    const Graph& g = *impl_->graph;
    const int N = (int)g.cur_element_count;
    const int groundInts = (int)(g.size_links_level0_ / sizeof(int)), upperInts = (int)(g.size_links_per_element_ / sizeof(int));
    Mat ground(N, groundInts, CV_32S), labels(N, 1, CV_32S), levels(N, 1, CV_32S);
    std::vector<int> upper;
    for (int i = 0; i < N; i++)
    {
        const char* element = g.data_level0_memory_ + (size_t)i * g.size_data_per_element_;
        std::memcpy(ground.ptr<int>(i), element + g.offsetLevel0_, g.size_links_level0_);
        hnswlib::labeltype label;
        std::memcpy(&label, element + g.label_offset_, sizeof(label));
        labels.at<int>(i) = (int)label;
        levels.at<int>(i) = g.element_levels_[i];
        if (g.element_levels_[i] > 0)
        {
            const int* links = (const int*)g.linkLists_[i];
            upper.insert(upper.end(), links, links + (size_t)g.element_levels_[i] * upperInts);
        }
    }
    fs << "M" << impl_->M << "ef_construction" << impl_->efConstruction << "max_level" << g.maxlevel_
       << "entry_point" << (int)g.enterpoint_node_;
    persistence::writePayload(fs, "ground_links", ground);
    persistence::writePayload(fs, "labels", labels);
    persistence::writePayload(fs, "levels", levels);
    persistence::writePayload(fs, "upper_links", Mat((int)upper.size(), 1, CV_32S, upper.data()));
}

#else // DMAD_HAVE_HNSWLIB

struct HnswIndex::Impl {};

static CV_NORETURN void noHnswlib()
{
    CV_Error(Error::StsNotImplemented, "dmad: SEARCH_HNSW needs a build with hnswlib (Debian: libhnswlib-dev)");
}
HnswIndex::HnswIndex(const Mat&, int, int, int, uint64) { noHnswlib(); }
HnswIndex::HnswIndex(const Mat&, const FileNode&, int, const String&) { noHnswlib(); }
HnswIndex::~HnswIndex() {}
void HnswIndex::search(const Mat&, int, Mat&, Mat&) const { noHnswlib(); }
void HnswIndex::write(FileStorage&) const { noHnswlib(); }

#endif // DMAD_HAVE_HNSWLIB

}} // namespace cv::dmad
