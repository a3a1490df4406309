// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "knn_search.hpp"
#include "persistence.hpp"

namespace cv {
namespace dmad {

static const char* const kBankClass = "MemoryBank";
static const char* const kBankNode = "opencv_dmad_MemoryBank";

MemoryBank::Params::Params() : searchMethod(SEARCH_AUTO), halfPrecisionStorage(false) {}

void MemoryBank::Params::write(FileStorage& fs) const
{
    fs << "search_method" << searchMethod << "half_precision_storage" << (int)halfPrecisionStorage;
}

void MemoryBank::Params::read(const FileNode& node)
{
    const String where = "MemoryBank params";
    searchMethod = persistence::readInt(node, "search_method", where);
    halfPrecisionStorage = persistence::readInt(node, "half_precision_storage", where) != 0;
    if (searchMethod < SEARCH_AUTO || searchMethod > SEARCH_KDTREE)
        CV_Error(Error::StsParseError, cv::format("dmad: %s: unknown search_method %d", where.c_str(), searchMethod));
}

namespace {

Mat idColumn(InputArray ids, int rows, const char* what)
{
    if (ids.empty())
        return Mat(rows, 1, CV_32S, Scalar(-1));
    Mat m = ids.getMat();
    if (m.type() != CV_32S || m.total() != (size_t)rows)
        CV_Error(Error::StsBadSize, cv::format("dmad: %s must be %d CV_32S values, one per feature row", what, rows));
    return m.reshape(1, rows).clone();
}

} // namespace

class MemoryBankImpl CV_FINAL : public MemoryBank
{
public:
    explicit MemoryBankImpl(const Params& params) : params_(params)
    {
        if (params.searchMethod < SEARCH_AUTO || params.searchMethod > SEARCH_KDTREE)
            CV_Error(Error::StsBadArg, cv::format("dmad: unknown search method %d", params.searchMethod));
    }

    void add(InputArray features, InputArray imageIds, InputArray classIds) CV_OVERRIDE
    {
        Mat f = features.getMat();
        if (f.empty())
            CV_Error(Error::StsBadArg, "dmad: MemoryBank::add got no features");
        if (f.type() != CV_32F || f.dims != 2)
            CV_Error(Error::StsBadArg, "dmad: MemoryBank features must be a 2D CV_32F matrix");
        if (!features_.empty() && f.cols != features_.cols)
            CV_Error(Error::StsBadSize, cv::format("dmad: features have %d dims, the bank has %d", f.cols,
                                                   features_.cols));
        if (!cv::checkRange(f))
            CV_Error(Error::StsBadArg, "dmad: MemoryBank::add got NaN or infinite feature values");
        const Mat img = idColumn(imageIds, f.rows, "imageIds"), cls = idColumn(classIds, f.rows, "classIds");
        Mat norms(f.rows, 1, CV_32F);
        for (int i = 0; i < f.rows; i++)
            norms.at<float>(i) = (float)f.row(i).dot(f.row(i));
        features_.push_back(f);
        norms_.push_back(norms);
        imageIds_.push_back(img);
        classIds_.push_back(cls);
    }

    void clear() CV_OVERRIDE
    {
        features_.release();
        norms_.release();
        imageIds_.release();
        classIds_.release();
    }

    bool empty() const CV_OVERRIDE { return features_.empty(); }
    int size() const CV_OVERRIDE { return features_.rows; }
    int dims() const CV_OVERRIDE { return features_.cols; }

    void search(InputArray queries, int k, OutputArray distances, OutputArray indices,
                InputArray excludeImageIds) const CV_OVERRIDE
    {
        CV_TRACE_FUNCTION();
        if (features_.empty())
            CV_Error(Error::StsError, "dmad: search in an empty memory bank");
        Mat q = queries.getMat();
        if (q.empty() || q.type() != CV_32F || q.dims != 2)
            CV_Error(Error::StsBadArg, "dmad: queries must be a non-empty 2D CV_32F matrix");
        if (q.cols != features_.cols)
            CV_Error(Error::StsBadSize, cv::format("dmad: queries have %d dims, the bank has %d", q.cols,
                                                   features_.cols));
        if (k < 1 || k > features_.rows)
            CV_Error(Error::StsBadArg, cv::format("dmad: k = %d, must be in 1..%d (the bank size)", k,
                                                  features_.rows));
        if (!q.isContinuous())
            q = q.clone();
        Mat exclude;
        if (!excludeImageIds.empty())
            exclude = idColumn(excludeImageIds, q.rows, "excludeImageIds");
        Mat d, idx;
        bruteForceKnn(q, features_, norms_, imageIds_, exclude, k, d, idx);
        d.copyTo(distances);
        idx.copyTo(indices);
    }

    Mat getFeatures() const CV_OVERRIDE { return features_; }
    Mat getImageIds() const CV_OVERRIDE { return imageIds_; }
    Mat getClassIds() const CV_OVERRIDE { return classIds_; }
    Params getParams() const CV_OVERRIDE { return params_; }

    void write(FileStorage& fs) const CV_OVERRIDE
    {
        persistence::writeHeader(fs, kBankClass);
        params_.write(fs);
        fs << "size" << size() << "dims" << dims();
        Mat stored;
        if (params_.halfPrecisionStorage)
            features_.convertTo(stored, CV_16F);
        else
            stored = features_;
        fs << "features" << stored << "image_ids" << imageIds_ << "class_ids" << classIds_;
    }

    void read(const FileNode& node) CV_OVERRIDE
    {
        const String where = "MemoryBank node";
        persistence::checkHeader(node, kBankClass, where);
        Params p;
        p.read(node);
        const int n = persistence::readInt(node, "size", where), d = persistence::readInt(node, "dims", where);
        Mat f = persistence::readMat(node, "features", where);
        Mat img = persistence::readMat(node, "image_ids", where), cls = persistence::readMat(node, "class_ids", where);
        if (n < 0 || d < 0 || (n > 0 && (f.rows != n || f.cols != d)) || (n == 0 && !f.empty()))
            CV_Error(Error::StsParseError, cv::format("dmad: %s: features are %dx%d, header says %dx%d",
                                                      where.c_str(), f.rows, f.cols, n, d));
        if (n > 0 && (f.depth() != CV_32F && f.depth() != CV_16F))
            CV_Error(Error::StsParseError, cv::format("dmad: %s: features have unsupported depth", where.c_str()));
        if (n > 0 && (img.type() != CV_32S || (int)img.total() != n || cls.type() != CV_32S || (int)cls.total() != n))
            CV_Error(Error::StsParseError, cv::format("dmad: %s: image_ids/class_ids do not match %d rows",
                                                      where.c_str(), n));
        MemoryBankImpl fresh(p);
        if (n > 0)
        {
            Mat f32;
            f.convertTo(f32, CV_32F);
            fresh.add(f32, img.reshape(1, n), cls.reshape(1, n));
        }
        *this = std::move(fresh);
    }

    void save(const String& filename) const CV_OVERRIDE
    {
        persistence::saveAtomically(filename,
                                    [this](FileStorage& fs) { persistence::writeNode(fs, kBankNode, *this); });
    }

    String getDefaultName() const CV_OVERRIDE { return kBankNode; }

private:
    Params params_;
    Mat features_, norms_, imageIds_, classIds_;
};

Ptr<MemoryBank> MemoryBank::create(const Params& params)
{
    return makePtr<MemoryBankImpl>(params);
}

Ptr<MemoryBank> MemoryBank::load(const String& filename, const String& objname)
{
    FileStorage fs;
    const FileNode node = persistence::openNode(fs, filename, objname, kBankNode);
    Ptr<MemoryBank> bank = create();
    try
    {
        bank->read(node);
    }
    catch (const cv::Exception& e)
    {
        CV_Error(e.code, cv::format("%s (in '%s')", e.err.c_str(), filename.c_str()));
    }
    return bank;
}

}} // namespace cv::dmad
