// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "nn/network_access.hpp"
#include "io/network_persistence.hpp"

namespace cv {
namespace dmad {

static const char* const kEnhancementClass = "KnowledgeEnhancement";
static const char* const kEnhancementNode = "opencv_dmad_KnowledgeEnhancement";

KnowledgeEnhancement::Params::Params() : featureDims(1536), neighbours(1), distances(false), seed(0) {}

namespace {

Mat continuousFloat(InputArray a, const char* what, int rows, int cols)
{
    Mat m = a.getMat();
    if (m.empty() || m.type() != CV_32F || m.dims != 2)
        CV_Error(Error::StsBadArg, cv::format("dmad: %s must be a non-empty 2D CV_32F matrix", what));
    if ((rows >= 0 && m.rows != rows) || m.cols != cols)
        CV_Error(Error::StsBadSize, cv::format("dmad: %s is %dx%d, expected %dx%d", what, m.rows, m.cols,
                                               rows >= 0 ? rows : m.rows, cols));
    Point bad;
    if (!cv::checkRange(m, true, &bad))
        CV_Error(Error::StsBadArg, cv::format("dmad: %s holds a NaN or infinite value (row %d, "
                                              "column %d)", what, bad.y, bad.x));
    return m.isContinuous() ? m : m.clone();
}

} // namespace

class KnowledgeEnhancementImpl CV_FINAL : public KnowledgeEnhancement
{
public:
    //! An empty shell for read().
    KnowledgeEnhancementImpl() = default;

    explicit KnowledgeEnhancementImpl(const Params& params)
    {
        if (params.featureDims < 1 || params.neighbours < 1 || params.neighbours > 64)
            CV_Error(Error::StsBadArg, cv::format("dmad: KnowledgeEnhancement needs featureDims >= 1 and "
                                                  "neighbours in 1..64 (got %d, %d)",
                                                  params.featureDims, params.neighbours));
        RNG rng((uint64)(int64)params.seed * 2654435761ULL + 1);
        net_.init(params.featureDims, params.neighbours, rng, params.distances);
        seed_ = params.seed;
    }

    void compute(InputArray features, InputArray normalNeighbours, InputArray abnormalNeighbours,
                 OutputArray representation) const CV_OVERRIDE
    {
        CV_TRACE_FUNCTION();
        const int D = net_.dims, k = net_.neighbours;
        const Mat q = continuousFloat(features, "features", -1, D);
        const Mat n = continuousFloat(normalNeighbours, "normalNeighbours", q.rows, k * D);
        const Mat a = continuousFloat(abnormalNeighbours, "abnormalNeighbours", q.rows, k * D);
        typedef Eigen::Map<const nn::Matrix<float>> ConstMap;
        const nn::Matrix<float> Q = ConstMap(q.ptr<float>(), q.rows, D);
        const nn::Matrix<float> N = ConstMap(n.ptr<float>(), n.rows, k * D);
        const nn::Matrix<float> A = ConstMap(a.ptr<float>(), a.rows, k * D);
        const nn::Matrix<float>* banks[2] = { &N, &A };
        nn::Matrix<float> o;
        // inference reads the weights and running statistics only
        const_cast<nn::EnhancementNetwork<float>&>(net_).forward(Q, banks, false, false, o, nullptr);
        Mat((int)o.rows(), (int)o.cols(), CV_32F, o.data()).copyTo(representation);
    }

    int featureDims() const CV_OVERRIDE { return net_.dims; }
    int neighbours() const CV_OVERRIDE { return net_.neighbours; }
    int representationDims() const CV_OVERRIDE { return net_.outputDims(); }

    void write(FileStorage& fs) const CV_OVERRIDE
    {
        persistence::writeHeader(fs, kEnhancementClass);
        fs << "feature_dims" << net_.dims << "neighbours" << net_.neighbours << "distances" << (int)net_.distances
           << "seed" << seed_;
        nn::writeLinear(fs, "value", net_.value);
        if (net_.neighbours > 1)
        {
            nn::writeLinear(fs, "query", net_.query);
            nn::writeLinear(fs, "key", net_.key);
        }
        nn::writeBatchNorm(fs, "normal_norm", net_.bankNorm[0]);
        nn::writeBatchNorm(fs, "abnormal_norm", net_.bankNorm[1]);
        nn::writeLinear(fs, "adaptor", net_.adaptor);
    }

    void read(const FileNode& node) CV_OVERRIDE
    {
        const String where = "KnowledgeEnhancement node";
        persistence::checkHeader(node, kEnhancementClass, where);
        const int D = persistence::readInt(node, "feature_dims", where);
        const int k = persistence::readInt(node, "neighbours", where);
        if (D < 1 || D > 65536 || k < 1 || k > 64)
            CV_Error(Error::StsParseError, cv::format("dmad: %s: invalid feature_dims %d or neighbours %d",
                                                      where.c_str(), D, k));
        nn::EnhancementNetwork<float> net;
        net.dims = D;
        net.neighbours = k;
        net.distances = persistence::readInt(node, "distances", where) != 0;
        nn::readLinear(node, "value", D, D, true, net.value, where);
        if (k > 1)
        {
            nn::readLinear(node, "query", D, D, false, net.query, where);
            nn::readLinear(node, "key", D, D, false, net.key, where);
        }
        nn::readBatchNorm(node, "normal_norm", D, net.bankNorm[0], where);
        nn::readBatchNorm(node, "abnormal_norm", D, net.bankNorm[1], where);
        nn::readLinear(node, "adaptor", D, D, true, net.adaptor, where);
        net_ = std::move(net);
        seed_ = node["seed"].isInt() ? (int)node["seed"] : 0;
    }

    void save(const String& filename) const CV_OVERRIDE
    {
        persistence::saveAlgorithm(filename, kEnhancementNode, *this);
    }

    String getDefaultName() const CV_OVERRIDE { return kEnhancementNode; }

    nn::EnhancementNetwork<float> net_;
    int seed_ = 0;
};

Ptr<KnowledgeEnhancement> KnowledgeEnhancement::create(const Params& params)
{
    return makePtr<KnowledgeEnhancementImpl>(params);
}

Ptr<KnowledgeEnhancement> KnowledgeEnhancement::load(const String& filename, const String& objname)
{
    Ptr<KnowledgeEnhancement> e = makePtr<KnowledgeEnhancementImpl>();
    persistence::loadAlgorithm(*e, filename, objname, kEnhancementNode);
    return e;
}

nn::EnhancementNetwork<float>& networkOf(KnowledgeEnhancement& enhancement)
{
    KnowledgeEnhancementImpl* impl = dynamic_cast<KnowledgeEnhancementImpl*>(&enhancement);
    CV_Assert(impl && "KnowledgeEnhancement not created by dmad");
    return impl->net_;
}

}} // namespace cv::dmad
