// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "bank/blas_products.hpp"
#include "bank/hnsw_index.hpp"
#include "bank/knn_search.hpp"
#include "bank/simd_kernels.hpp"
#include "io/binary_payload.hpp"
#include "io/persistence.hpp"
#include "bank/cuda/knn_search_cuda.hpp"

#include <opencv2/dnn/dnn.hpp>

#include <climits>

namespace cv {
namespace dmad {

static const char* const kBankClass = "MemoryBank";
static const char* const kBankNode = "opencv_dmad_MemoryBank";
static const char* const kFloat32 = "float32";
static const char* const kFloat16 = "float16";
static const char* const kFloat16Bits = "float16_bits";

static void checkHnswParams(const MemoryBank::Params& p)
{
    if (p.hnswM < 2 || p.hnswM > 1000 || p.hnswEfConstruction < 1 || p.hnswEfSearch < 1)
        CV_Error(Error::StsBadArg, cv::format("dmad: MemoryBank HNSW parameters out of range: M %d (2..1000), "
                                              "efConstruction %d and efSearch %d (>= 1)",
                                              p.hnswM, p.hnswEfConstruction, p.hnswEfSearch));
    if (p.searchMethod == MemoryBank::SEARCH_HNSW && !hnswAvailable())
        CV_Error(Error::StsNotImplemented, "dmad: SEARCH_HNSW needs a build with hnswlib (Debian: libhnswlib-dev)");
}

MemoryBank::Params::Params()
    : searchMethod(SEARCH_AUTO), halfPrecisionStorage(false), hnswM(24), hnswEfConstruction(200),
      hnswEfSearch(20)
{
}

void MemoryBank::Params::write(FileStorage& fs) const
{
    fs << "search_method" << searchMethod << "half_precision_storage" << (int)halfPrecisionStorage
       << "hnsw_m" << hnswM << "hnsw_ef_construction" << hnswEfConstruction << "hnsw_ef_search" << hnswEfSearch;
}

void MemoryBank::Params::read(const FileNode& node)
{
    const String where = "MemoryBank params";
    searchMethod = persistence::readInt(node, "search_method", where);
    halfPrecisionStorage = persistence::readInt(node, "half_precision_storage", where) != 0;
    if (searchMethod < SEARCH_AUTO || searchMethod > SEARCH_HNSW)
        CV_Error(Error::StsParseError,
                 cv::format("dmad: %s: unknown search_method %d", where.c_str(), searchMethod));
    // files before the HNSW index have no such keys
    const Params defaults;
    hnswM = node["hnsw_m"].empty() ? defaults.hnswM : persistence::readInt(node, "hnsw_m", where);
    hnswEfConstruction = node["hnsw_ef_construction"].empty()
                             ? defaults.hnswEfConstruction
                             : persistence::readInt(node, "hnsw_ef_construction", where);
    hnswEfSearch = node["hnsw_ef_search"].empty() ? defaults.hnswEfSearch
                                                  : persistence::readInt(node, "hnsw_ef_search", where);
    checkHnswParams(*this);
}

bool MemoryBank::kdTreeIsFaster(int bankSize, int dims)
{
    /* Crossover points measured with `dmad_bench_bank --crossover` (1024 queries N(0, 1) against
       banks of N(0, 1) rows, k = 1, 2 threads, search time without the one-off tree build; table
       in doc/memory_bank.md). KD-tree / brute-force time ratios near the crossover:
         D <= 3: 0.58 at N = 1,000 (D = 2)    D = 4: 1.19 at 1,000, 0.79 at 5,000
         D = 6: 4.5 at 5,000, 0.84 at 30,000  D = 8: 1.80 at 300,000, 0.84 at 1,000,000
         D >= 12: the tree loses everywhere up to 100,000 rows (19x at D = 12). */
    static const struct { int maxDims, minRows; } rules[] = {
        {3, 1000}, {4, 5000}, {6, 30000}, {8, 1000000}};
    for (const auto& rule : rules)
        if (dims <= rule.maxDims)
            return bankSize >= rule.minRows;
    return false;
}

String MemoryBank::searchImplementation()
{
    return format("kernels %s, products: %s", kernels::bestKernels().name,
                  blas::enabled() ? blas::description().c_str() : "kernels (Eigen)");
}

namespace {

Mat idColumn(InputArray ids, int rows, const char* what)
{
    if (ids.empty())
        return Mat(rows, 1, CV_32S, Scalar(-1));
    Mat m = ids.getMat();
    if (m.type() != CV_32S || m.total() != (size_t)rows)
        CV_Error(Error::StsBadSize,
                 cv::format("dmad: %s must be %d CV_32S values, one per row (got %d values of %s)",
                            what, rows, (int)m.total(), typeToString(m.type()).c_str()));
    return m.reshape(1, rows).clone();
}

} // namespace

class MemoryBankImpl CV_FINAL : public MemoryBank
{
public:
    explicit MemoryBankImpl(const Params& params) : params_(params)
    {
        if (params.searchMethod < SEARCH_AUTO || params.searchMethod > SEARCH_HNSW)
            CV_Error(Error::StsBadArg,
                     cv::format("dmad: unknown MemoryBank search method %d", params.searchMethod));
        checkHnswParams(params);
    }

    void add(InputArray features, InputArray imageIds, InputArray classIds) CV_OVERRIDE
    {
        CV_TRACE_FUNCTION();
        Mat f = features.getMat();
        if (f.empty())
            CV_Error(Error::StsBadArg, "dmad: MemoryBank::add got no features");
        if (f.type() != CV_32F || f.dims != 2)
            CV_Error(Error::StsBadArg,
                     cv::format("dmad: MemoryBank features must be a 2D CV_32F matrix "
                                "(got %s, %d dims)", typeToString(f.type()).c_str(), f.dims));
        if (!features_.empty() && f.cols != features_.cols)
            CV_Error(Error::StsBadSize, cv::format("dmad: features have %d dims, the bank has %d",
                                                   f.cols, features_.cols));
        if ((int64)features_.rows + f.rows > (int64)INT_MAX)
            CV_Error(Error::StsOutOfRange, "dmad: MemoryBank cannot hold more than 2^31-1 rows");
        Point badAt;
        if (!cv::checkRange(f, true, &badAt))
            CV_Error(Error::StsBadArg,
                     cv::format("dmad: MemoryBank::add got a NaN or infinite value "
                                "(row %d, column %d)", badAt.y, badAt.x));
        const Mat img = idColumn(imageIds, f.rows, "imageIds");
        const Mat cls = idColumn(classIds, f.rows, "classIds");
        Mat stored = f;
        if (params_.halfPrecisionStorage)
        {
            double largest = cv::norm(f, NORM_INF);
            if (largest > 65504.0)  // would be stored as infinity
                CV_Error(Error::StsOutOfRange,
                         cv::format("dmad: MemoryBank::add: |value| %g exceeds the float16 range "
                                    "(65504) of halfPrecisionStorage", largest));
            f.convertTo(stored, CV_16F);
        }
        std::lock_guard<std::mutex> lock(indexMutex_);
        features_.push_back(stored);
        imageIds_.push_back(img);
        classIds_.push_back(cls);
        tree_.reset();
        stats_.reset();
        cuda_.reset();
        hnsw_.reset();
    }

    void clear() CV_OVERRIDE
    {
        std::lock_guard<std::mutex> lock(indexMutex_);
        features_.release();
        imageIds_.release();
        classIds_.release();
        tree_.reset();
        stats_.reset();
        cuda_.reset();
        hnsw_.reset();
    }

    bool empty() const CV_OVERRIDE { return features_.empty(); }
    int size() const CV_OVERRIDE { return features_.rows; }
    int dims() const CV_OVERRIDE { return features_.cols; }

    void search(InputArray queries, int k, OutputArray distances, OutputArray indices,
                InputArray excludeImageIds) const CV_OVERRIDE
    {
        CV_TRACE_FUNCTION();
        const Mat q = checkedQueries(queries, k);
        Mat exclude;
        if (!excludeImageIds.empty())
            exclude = idColumn(excludeImageIds, q.rows, "excludeImageIds");
        Mat d, idx;
        if (target_ == dnn::DNN_TARGET_CUDA)
            cudaIndex()->search(q, exclude, k, allowTF32_, d, idx);
        else if (params_.searchMethod == SEARCH_HNSW && exclude.empty())
            hnsw()->search(q, k, d, idx);
        else
            searchExact(q, exclude, k, d, idx);
        d.copyTo(distances);
        idx.copyTo(indices);
    }

    void searchNearest(InputArray queries, int groupSize, OutputArray distances) const CV_OVERRIDE
    {
        CV_TRACE_FUNCTION();
        const Mat q = checkedQueries(queries, 1);
        if (groupSize < 1 || q.rows % groupSize != 0)
            CV_Error(Error::StsBadArg, cv::format("dmad: searchNearest: %d queries do not form groups of %d",
                                                  q.rows, groupSize));
        Mat d, idx;
        if (target_ == dnn::DNN_TARGET_CUDA || params_.searchMethod != SEARCH_HNSW)
        {
            search(q, 1, d, idx, noArray());
            d.copyTo(distances);
            return;
        }
        hnsw()->search(q, 1, d, idx);
        refineGroupMaxima(q, groupSize, d);
        d.copyTo(distances);
    }

    Mat getFeatures() const CV_OVERRIDE
    {
        if (features_.depth() == CV_32F)
            return features_;
        Mat f32;
        features_.convertTo(f32, CV_32F);
        return f32;
    }
    Mat getImageIds() const CV_OVERRIDE { return imageIds_; }
    Mat getClassIds() const CV_OVERRIDE { return classIds_; }
    Params getParams() const CV_OVERRIDE { return params_; }

    void setPreferableTarget(int targetId) CV_OVERRIDE
    {
        if (targetId == dnn::DNN_TARGET_CUDA)
        {
            // Checked here, not at the first search: a missing device must surface where the
            // choice is made, and nothing ever falls back to the CPU behind the caller's back.
            const String reason = cudaSearchUnavailableReason();
            if (!reason.empty())
                CV_Error(Error::GpuNotSupported,
                         "dmad: MemoryBank cannot use DNN_TARGET_CUDA: " + reason);
        }
        else if (targetId != dnn::DNN_TARGET_CPU)
            CV_Error(Error::StsBadArg,
                     cv::format("dmad: MemoryBank supports the targets DNN_TARGET_CPU (%d) and "
                                "DNN_TARGET_CUDA (%d), got %d",
                                (int)dnn::DNN_TARGET_CPU, (int)dnn::DNN_TARGET_CUDA, targetId));
        target_ = targetId;
    }

    int getPreferableTarget() const CV_OVERRIDE { return target_; }

    void setCudaAllowTF32(bool allow) CV_OVERRIDE { allowTF32_ = allow; }

    void write(FileStorage& fs) const CV_OVERRIDE
    {
        persistence::writeHeader(fs, kBankClass);
        params_.write(fs);
        fs << "size" << size() << "dims" << dims();
        // Features are stored as held, as a binary payload (io/binary_payload.hpp): it loads at
        // disk speed where FileStorage's own matrices take seconds.
        const bool half = features_.depth() == CV_16F;
        fs << "features_encoding" << (half ? kFloat16 : kFloat32);
        persistence::writePayload(fs, "features", features_);
        persistence::writePayload(fs, "image_ids", imageIds_);
        persistence::writePayload(fs, "class_ids", classIds_);
        // the graph travels with the bank: building it takes far longer than loading it
        if (params_.searchMethod == SEARCH_HNSW && !features_.empty())
        {
            fs << "hnsw" << "{";
            hnsw()->write(fs);
            fs << "}";
        }
    }

    void read(const FileNode& node) CV_OVERRIDE
    {
        const String where = "MemoryBank node";
        persistence::checkHeader(node, kBankClass, where);
        Params p;
        p.read(node);
        const int n = persistence::readInt(node, "size", where);
        const int d = persistence::readInt(node, "dims", where);
        if (n < 0 || d < 0)
            CV_Error(Error::StsParseError,
                     cv::format("dmad: %s: invalid size %d or dims %d", where.c_str(), n, d));
        const Mat stored = readMatrix(node, "features", where);
        Mat f = stored;
        const FileNode encodingNode = node["features_encoding"];
        const String encoding = encodingNode.isString() ? (String)encodingNode : String(kFloat32);
        // files before the binary payload held float16 features as bit patterns (CV_16U)
        if (encoding == kFloat16Bits && stored.type() == CV_16U)
            f = Mat(stored.size(), CV_16F, stored.data, stored.step);  // `stored` owns the data
        else if (encoding != kFloat16Bits && encoding != kFloat32 && encoding != kFloat16)
            CV_Error(Error::StsParseError, cv::format("dmad: %s: unknown features_encoding '%s'",
                                                      where.c_str(), encoding.c_str()));
        const Mat img = readMatrix(node, "image_ids", where);
        const Mat cls = readMatrix(node, "class_ids", where);
        if ((n > 0 && (f.rows != n || f.cols != d)) || (n == 0 && !f.empty()))
            CV_Error(Error::StsParseError,
                     cv::format("dmad: %s: matrix 'features' is %dx%d, but size x dims is %dx%d",
                                where.c_str(), f.rows, f.cols, n, d));
        if (n > 0 && f.type() != CV_32F && f.type() != CV_16F)
            CV_Error(Error::StsParseError,
                     cv::format("dmad: %s: matrix 'features' is %s, expected CV_32F or CV_16F",
                                where.c_str(), typeToString(f.type()).c_str()));
        if (n > 0 && (img.type() != CV_32S || (int)img.total() != n))
            CV_Error(Error::StsParseError,
                     cv::format("dmad: %s: matrix 'image_ids' does not hold %d CV_32S values",
                                where.c_str(), n));
        if (n > 0 && (cls.type() != CV_32S || (int)cls.total() != n))
            CV_Error(Error::StsParseError,
                     cv::format("dmad: %s: matrix 'class_ids' does not hold %d CV_32S values",
                                where.c_str(), n));
        MemoryBankImpl fresh(p);
        if (n > 0)
        {
            Mat f32;
            f.convertTo(f32, CV_32F);  // float16 values are exact in float32: nothing is lost
            fresh.add(f32, img.reshape(1, n), cls.reshape(1, n));
        }
        std::shared_ptr<const HnswIndex> graph;
        if (p.searchMethod == SEARCH_HNSW && n > 0 && node["hnsw"].isMap())
            graph = std::make_shared<const HnswIndex>(fresh.features_, node["hnsw"], p.hnswEfSearch,
                                                      where + " hnsw");
        std::lock_guard<std::mutex> lock(indexMutex_);
        params_ = fresh.params_;
        features_ = fresh.features_;
        imageIds_ = fresh.imageIds_;
        classIds_ = fresh.classIds_;
        tree_.reset();
        stats_.reset();
        cuda_.reset();
        hnsw_ = graph;
    }

    void save(const String& filename) const CV_OVERRIDE
    {
        persistence::saveAlgorithm(filename, kBankNode, *this);
    }

    String getDefaultName() const CV_OVERRIDE { return kBankNode; }

private:
    //! A binary payload, or a FileStorage matrix (files written before the payload).
    static Mat readMatrix(const FileNode& node, const char* key, const String& where)
    {
        return persistence::isPayload(node[key]) ? persistence::readPayload(node[key], key, where)
                                                 : persistence::readMat(node, key, where);
    }

    bool useKdTree() const
    {
        if (params_.searchMethod == SEARCH_KDTREE)
            return true;
        if (params_.searchMethod == SEARCH_BRUTE_FORCE)
            return false;
        return kdTreeIsFaster(features_.rows, features_.cols);
    }

    //! The queries as a continuous, finite `q x D` CV_32F matrix; k checked against the bank.
    Mat checkedQueries(InputArray queries, int k) const
    {
        if (features_.empty())
            CV_Error(Error::StsError, "dmad: search in an empty memory bank");
        Mat q = queries.getMat();
        if (q.empty() || q.type() != CV_32F || q.dims != 2)
            CV_Error(Error::StsBadArg,
                     cv::format("dmad: queries must be a non-empty 2D CV_32F matrix (got %s)",
                                q.empty() ? "an empty one" : typeToString(q.type()).c_str()));
        if (q.cols != features_.cols)
            CV_Error(Error::StsBadSize, cv::format("dmad: queries have %d dims, the bank has %d",
                                                   q.cols, features_.cols));
        if (k < 1 || k > features_.rows)
            CV_Error(Error::StsBadArg, cv::format("dmad: k = %d, must be in 1..%d (the bank size)",
                                                  k, features_.rows));
        // the CUDA search checks its queries on the device, where it costs nothing
        if (target_ != dnn::DNN_TARGET_CUDA && !cv::checkRange(q))
            CV_Error(Error::StsBadArg, "dmad: queries contain NaN or infinite values");
        return q.isContinuous() ? q : q.clone();
    }

    void searchExact(const Mat& q, const Mat& exclude, int k, Mat& d, Mat& idx) const
    {
        if (useKdTree())
            kdTree()->search(q, imageIds_, exclude, k, d, idx);
        else
            bruteForceKnn(q, features_, *statistics(), imageIds_, exclude, k, d, idx);
    }

    /** Makes each group's largest distance in `d` (approximate upper bounds, q x 1) exact. Rounds
        search, for every group not yet settled, its next queries in descending approximate distance
        exactly, all groups in one batch (the exact search is a matrix product: one query alone would
        read the whole bank for little work); a group's batch doubles each round. A group is settled
        when its next approximate distance is at most its largest exact one. */
    void refineGroupMaxima(const Mat& q, int groupSize, Mat& d) const
    {
        const int groups = q.rows / groupSize;
        std::vector<std::vector<int>> order(groups);
        std::vector<int> next(groups, 0), batch(groups, 4);
        std::vector<float> best(groups, -1.f);
        for (int g = 0; g < groups; g++)
        {
            std::vector<int>& o = order[g];
            o.resize(groupSize);
            for (int i = 0; i < groupSize; i++)
                o[i] = g * groupSize + i;
            std::stable_sort(o.begin(), o.end(), [&](int a, int b) { return d.at<float>(a) > d.at<float>(b); });
        }
        auto settled = [&](int g) { return next[g] >= groupSize || d.at<float>(order[g][next[g]]) <= best[g]; };
        for (;;)
        {
            std::vector<int> rows, owner;
            for (int g = 0; g < groups; g++)
            {
                if (settled(g))
                    continue;
                const int end = std::min(groupSize, next[g] + batch[g]);
                for (int i = next[g]; i < end; i++)
                {
                    rows.push_back(order[g][i]);
                    owner.push_back(g);
                }
                next[g] = end;
                batch[g] *= 2;
            }
            if (rows.empty())
                return;
            Mat sub((int)rows.size(), q.cols, CV_32F), de, ie;
            for (size_t i = 0; i < rows.size(); i++)
                q.row(rows[i]).copyTo(sub.row((int)i));
            searchExact(sub, Mat(), 1, de, ie);
            for (size_t i = 0; i < rows.size(); i++)
            {
                const float exact = de.at<float>((int)i);
                d.at<float>(rows[i]) = exact;
                best[owner[i]] = std::max(best[owner[i]], exact);
            }
        }
    }

    // Search indexes are built by the first search that needs them (one thread builds, concurrent
    // searches wait) and dropped by add(), clear() and read().
    std::shared_ptr<const KdTreeIndex> kdTree() const
    {
        std::lock_guard<std::mutex> lock(indexMutex_);
        if (!tree_)
            tree_ = std::make_shared<const KdTreeIndex>(features_);
        return tree_;
    }

    std::shared_ptr<const HnswIndex> hnsw() const
    {
        std::lock_guard<std::mutex> lock(indexMutex_);
        if (!hnsw_)
            hnsw_ = std::make_shared<const HnswIndex>(features_, params_.hnswM, params_.hnswEfConstruction,
                                                      params_.hnswEfSearch, 100);
        return hnsw_;
    }

    // The device copy of the bank, uploaded by the first CUDA search after each change.
    std::shared_ptr<const CudaKnnIndex> cudaIndex() const
    {
        const std::shared_ptr<const BankStatistics> stats = statistics();
        std::lock_guard<std::mutex> lock(indexMutex_);
        if (!cuda_)
            cuda_ = std::make_shared<const CudaKnnIndex>(features_, *stats, imageIds_);
        return cuda_;
    }

    std::shared_ptr<const BankStatistics> statistics() const
    {
        std::lock_guard<std::mutex> lock(indexMutex_);
        if (!stats_)
            stats_ = std::make_shared<const BankStatistics>(computeBankStatistics(features_));
        return stats_;
    }

    Params params_;
    Mat features_;  //!< N x D, CV_32F or CV_16F (halfPrecisionStorage)
    Mat imageIds_, classIds_;
    mutable std::mutex indexMutex_;
    mutable std::shared_ptr<const KdTreeIndex> tree_;
    mutable std::shared_ptr<const BankStatistics> stats_;
    mutable std::shared_ptr<const CudaKnnIndex> cuda_;
    mutable std::shared_ptr<const HnswIndex> hnsw_;
    int target_ = dnn::DNN_TARGET_CPU;  //!< run-time choice, not saved
    bool allowTF32_ = false;
};

Ptr<MemoryBank> MemoryBank::create(const Params& params)
{
    return makePtr<MemoryBankImpl>(params);
}

Ptr<MemoryBank> MemoryBank::load(const String& filename, const String& objname)
{
    Ptr<MemoryBank> bank = create();
    persistence::loadAlgorithm(*bank, filename, objname, kBankNode);
    return bank;
}

}} // namespace cv::dmad
