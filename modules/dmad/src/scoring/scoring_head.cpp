// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "nn/network_access.hpp"
#include "io/network_persistence.hpp"

namespace cv {
namespace dmad {

static const char* const kHeadClass = "ScoringHead";
static const char* const kHeadNode = "opencv_dmad_ScoringHead";

ScoringHead::Params::Params() : inputDims(3 * 1536), hiddenDims(1024), seed(0) {}

class ScoringHeadImpl CV_FINAL : public ScoringHead
{
public:
    //! An empty shell for read().
    ScoringHeadImpl() = default;

    explicit ScoringHeadImpl(const Params& params)
    {
        if (params.inputDims < 1 || params.hiddenDims < 1 || params.inputDims > 1 << 18 || params.hiddenDims > 1 << 16)
            CV_Error(Error::StsBadArg, cv::format("dmad: ScoringHead dims out of range (input %d, hidden %d)",
                                                  params.inputDims, params.hiddenDims));
        RNG rng((uint64)(int64)params.seed * 2654435761ULL + 2);
        net_.init(params.inputDims, params.hiddenDims, rng);
        seed_ = params.seed;
    }

    void compute(InputArray representation, OutputArray scores) const CV_OVERRIDE
    {
        CV_TRACE_FUNCTION();
        Mat o = representation.getMat();
        if (o.empty() || o.type() != CV_32F || o.dims != 2)
            CV_Error(Error::StsBadArg, "dmad: ScoringHead input must be a non-empty 2D CV_32F matrix");
        if (o.cols != net_.inputDims())
            CV_Error(Error::StsBadSize, cv::format("dmad: ScoringHead input has %d columns, expected %d", o.cols,
                                                   net_.inputDims()));
        Point bad;
        if (!cv::checkRange(o, true, &bad))
            CV_Error(Error::StsBadArg, cv::format("dmad: ScoringHead input holds a NaN or infinite "
                                                  "value (row %d, column %d)", bad.y, bad.x));
        if (!o.isContinuous())
            o = o.clone();
        const nn::Matrix<float> O = Eigen::Map<const nn::Matrix<float>>(o.ptr<float>(), o.rows, o.cols);
        nn::Matrix<float> s;
        // inference reads the weights and running statistics only
        const_cast<nn::ScoringNetwork<float>&>(net_).forward(O, false, false, s, nullptr);
        Mat out(o.rows, 1, CV_32F);
        for (int i = 0; i < o.rows; i++)
            out.at<float>(i) = -s(i, 0);
        out.copyTo(scores);
    }

    int inputDims() const CV_OVERRIDE { return net_.inputDims(); }
    int hiddenDims() const CV_OVERRIDE { return net_.hiddenDims(); }

    void write(FileStorage& fs) const CV_OVERRIDE
    {
        persistence::writeHeader(fs, kHeadClass);
        fs << "input_dims" << inputDims() << "hidden_dims" << hiddenDims() << "seed" << seed_;
        nn::writeLinear(fs, "hidden", net_.hidden);
        nn::writeBatchNorm(fs, "norm", net_.norm);
        nn::writeLinear(fs, "output", net_.output);
    }

    void read(const FileNode& node) CV_OVERRIDE
    {
        const String where = "ScoringHead node";
        persistence::checkHeader(node, kHeadClass, where);
        const int in = persistence::readInt(node, "input_dims", where);
        const int hidden = persistence::readInt(node, "hidden_dims", where);
        if (in < 1 || hidden < 1 || in > 1 << 18 || hidden > 1 << 16)
            CV_Error(Error::StsParseError, cv::format("dmad: %s: invalid dims %d, %d", where.c_str(), in, hidden));
        nn::ScoringNetwork<float> net;
        nn::readLinear(node, "hidden", in, hidden, true, net.hidden, where);
        nn::readBatchNorm(node, "norm", hidden, net.norm, where);
        nn::readLinear(node, "output", hidden, 1, false, net.output, where);
        net_ = std::move(net);
        seed_ = node["seed"].isInt() ? (int)node["seed"] : 0;
    }

    void save(const String& filename) const CV_OVERRIDE
    {
        persistence::saveAlgorithm(filename, kHeadNode, *this);
    }

    String getDefaultName() const CV_OVERRIDE { return kHeadNode; }

    nn::ScoringNetwork<float> net_;
    int seed_ = 0;
};

Ptr<ScoringHead> ScoringHead::create(const Params& params)
{
    return makePtr<ScoringHeadImpl>(params);
}

Ptr<ScoringHead> ScoringHead::load(const String& filename, const String& objname)
{
    Ptr<ScoringHead> head = makePtr<ScoringHeadImpl>();
    persistence::loadAlgorithm(*head, filename, objname, kHeadNode);
    return head;
}

nn::ScoringNetwork<float>& networkOf(ScoringHead& head)
{
    ScoringHeadImpl* impl = dynamic_cast<ScoringHeadImpl*>(&head);
    CV_Assert(impl && "ScoringHead not created by dmad");
    return impl->net_;
}

}} // namespace cv::dmad
