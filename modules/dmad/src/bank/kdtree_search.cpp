// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Exact k-NN through nanoflann's KD-tree (Debian 12 ships nanoflann 1.4.3: SearchParams,
// KDTreeSingleIndexAdaptorParams(leaf_max_size), the index is built by its constructor).

#include "precomp.hpp"
#include "bank/knn_search.hpp"

#include <nanoflann.hpp>

#include <cfloat>

namespace cv {
namespace dmad {

namespace {

//! nanoflann's view of an N x D CV_32F matrix.
struct MatDataset
{
    Mat data;
    size_t kdtree_get_point_count() const { return (size_t)data.rows; }
    float kdtree_get_pt(uint32_t row, size_t dim) const { return data.ptr<float>((int)row)[dim]; }
    template <class BoundingBox>
    bool kdtree_get_bbox(BoundingBox&) const { return false; }
};

typedef nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<float, MatDataset>,
                                            MatDataset, -1, uint32_t> Tree;

/** nanoflann's k-NN result set, plus the leave-one-image-out filter: entries of the excluded
    image are refused as they are met, so the tree keeps searching for the next ones. */
class FilteredKnnResult
{
public:
    typedef float DistanceType;
    typedef uint32_t IndexType;
    typedef size_t CountType;

    FilteredKnnResult(int capacity, float* dists, int* indices, const int* imageIds, int excludeId)
        : capacity_(capacity), count_(0), dists_(dists), indices_(indices), imageIds_(imageIds),
          excludeId_(excludeId)
    {
        for (int i = 0; i < capacity; i++)
        {
            dists_[i] = FLT_MAX;
            indices_[i] = -1;
        }
    }

    size_t size() const { return (size_t)count_; }
    bool full() const { return count_ == capacity_; }
    float worstDist() const { return dists_[capacity_ - 1]; }

    bool addPoint(float dist, uint32_t index)
    {
        if (imageIds_ && imageIds_[index] == excludeId_)
            return true;
        int pos = std::min(count_, capacity_ - 1);
        if (count_ == capacity_ && !(dist < dists_[pos]))
            return true;
        while (pos > 0 && dists_[pos - 1] > dist)
        {
            dists_[pos] = dists_[pos - 1];
            indices_[pos] = indices_[pos - 1];
            pos--;
        }
        dists_[pos] = dist;
        indices_[pos] = (int)index;
        count_ = std::min(count_ + 1, capacity_);
        return true;
    }

private:
    int capacity_, count_;
    float* dists_;
    int* indices_;
    const int* imageIds_;
    int excludeId_;
};

} // namespace

struct KdTreeIndex::Impl
{
    MatDataset dataset;
    std::unique_ptr<Tree> tree;
};

KdTreeIndex::KdTreeIndex(const Mat& bank) : impl_(new Impl)
{
    CV_TRACE_FUNCTION();
    // A CV_32F copy: the index stays valid while add() grows the bank, and CV_16F banks need one.
    bank.convertTo(impl_->dataset.data, CV_32F);
    impl_->tree.reset(new Tree(bank.cols, impl_->dataset,
                               nanoflann::KDTreeSingleIndexAdaptorParams(16)));
}

KdTreeIndex::~KdTreeIndex() {}

void KdTreeIndex::search(const Mat& queries, const Mat& bankImageIds, const Mat& excludeImageIds,
                         int k, Mat& distances, Mat& indices) const
{
    CV_TRACE_FUNCTION();
    const int Q = queries.rows, N = impl_->dataset.data.rows;
    const int kc = std::min(k + kExtraCandidates, N);
    const int* imageIds = excludeImageIds.empty() ? 0 : bankImageIds.ptr<int>();
    Mat candDists(Q, kc, CV_32F), candidates(Q, kc, CV_32S);
    const Tree& tree = *impl_->tree;
    parallel_for_(Range(0, Q), [&](const Range& range) {
        for (int i = range.start; i < range.end; i++)
        {
            const int excludeId = imageIds ? excludeImageIds.at<int>(i) : -1;
            FilteredKnnResult result(kc, candDists.ptr<float>(i), candidates.ptr<int>(i),
                                     excludeId >= 0 ? imageIds : 0, excludeId);
            tree.findNeighbors(result, queries.ptr<float>(i), nanoflann::SearchParams());
        }
    });
    refineCandidates(queries, impl_->dataset.data, candidates, k, distances, indices);
}

}} // namespace cv::dmad
