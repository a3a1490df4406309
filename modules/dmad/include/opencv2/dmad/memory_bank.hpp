// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_MEMORY_BANK_HPP
#define OPENCV_DMAD_MEMORY_BANK_HPP

#include <opencv2/core.hpp>

namespace cv {
namespace dmad {

//! @addtogroup dmad
//! @{

/** @brief A bank of patch features with exact k-nearest-neighbour search.

Holds an `N x D` matrix of features and, per entry, the id of the image it came from and the id
of its class. search() returns **squared** Euclidean distances, ascending, and is const and safe
to call from several threads at once (add(), clear() and read() must not run concurrently with
it). Training patches that query a bank built from their own images must not find themselves:
search() can skip, per query, the entries of one source image (leave-one-image-out).

The search is exact. The brute-force method computes `|m|^2 - 2 q.m` with blocked matrix
products (OpenBLAS's sgemm where the library was built with it, else Eigen) and a fused top-k scan
(compiled for AVX-512, AVX2 and baseline x86-64, chosen at run time), then recomputes the
distances of the best candidates exactly, in double. The KD-tree
method (nanoflann) wins for low dimensions; SEARCH_AUTO chooses by kdTreeIsFaster(). Work is split
with cv::parallel_for_ (cv::setNumThreads applies) in a way that does not depend on the thread
count, so results are the same for any number of threads.
*/
class CV_EXPORTS_W MemoryBank : public Algorithm
{
public:
    enum SearchMethod
    {
        SEARCH_AUTO = 0,         //!< KD-tree where kdTreeIsFaster(), else brute force
        SEARCH_BRUTE_FORCE = 1,  //!< blocked matrix product with fused top-k (exact)
        SEARCH_KDTREE = 2,       //!< KD-tree (exact); wins only for low dimensions
        /** HNSW graph (hnswlib, approximate): for banks of tens of thousands of entries and more,
            where it is 7 to 10x faster than exact search at recall@1 0.92 to 0.97 on 74,321 x
            1536 real features (doc/memory_bank.md); searchNearest() keeps image maxima exact.
            Built by the first search, saved with the bank. Searches that exclude image ids
            (leave-one-image-out, which only training makes) stay exact. */
        SEARCH_HNSW = 3
    };

    struct CV_EXPORTS_W_SIMPLE Params
    {
        CV_WRAP Params();
        CV_PROP_RW int searchMethod;  //!< a SearchMethod
        /** Keep the features as float16, in memory and in files: half the memory and file size.
            The search then works on the float16 values (converted tile by tile, exact in float32),
            so distances are those to the rounded features. */
        CV_PROP_RW bool halfPrecisionStorage;
        /** SEARCH_HNSW: links per entry (2 M on the ground layer), 24; candidates kept while
            building, 200, and while searching, 20: on the paper's 74,321 x 1536 bank 10.5 times
            faster than exact at recall@1 0.956 (doc/memory_bank.md, section 2b). */
        CV_PROP_RW int hnswM;
        CV_PROP_RW int hnswEfConstruction;  //!< SEARCH_HNSW: candidates kept while building (200)
        CV_PROP_RW int hnswEfSearch;        //!< SEARCH_HNSW: candidates kept while searching (20)

        void write(FileStorage& fs) const;
        void read(const FileNode& node);
    };

    CV_WRAP static Ptr<MemoryBank> create(const MemoryBank::Params& params = MemoryBank::Params());

    /** @brief Whether SEARCH_AUTO uses the KD-tree for a bank of this size and dimension.

    The rule encodes crossover points measured on 2 cores with 1024 queries (doc/memory_bank.md):
    the tree wins for D <= 3 from 1,000 rows, D = 4 from 5,000, D <= 6 from 30,000 and D <= 8 from
    1,000,000 rows; brute force wins for D >= 9 (whose products are cheap and cache-friendly). */
    CV_WRAP static bool kdTreeIsFaster(int bankSize, int dims);
    /** @brief What the exact search runs on this CPU, for benchmark and bug reports, e.g.
    "kernels avx512, products: OpenBLAS 0.3.21 ... (SkylakeX kernels)". The kernels can be limited
    with OPENCV_DMAD_KERNELS=avx2|baseline, and OPENCV_DMAD_KNN_PRODUCTS=kernels replaces BLAS's
    products by the kernels' own. */
    CV_WRAP static String searchImplementation();
    /** @brief Loads a bank saved with save(); `objname` selects a node inside a larger file. */
    CV_WRAP static Ptr<MemoryBank> load(const String& filename, const String& objname = String());

    /** @brief Appends features.
    @param features `n x D` CV_32F, finite; D must match the bank's unless the bank is empty.
    @param imageIds optional `n x 1` CV_32S source image ids (default -1: unknown).
    @param classIds optional `n x 1` CV_32S class ids (default -1: unknown).
    */
    CV_WRAP virtual void add(InputArray features, InputArray imageIds = noArray(),
                             InputArray classIds = noArray()) = 0;
    CV_WRAP virtual void clear() CV_OVERRIDE = 0;
    CV_WRAP virtual int size() const = 0;
    CV_WRAP virtual int dims() const = 0;

    /** @brief Exact k nearest neighbours of each query row.
    @param queries `q x D` CV_32F.
    @param k neighbours per query, 1 <= k <= size().
    @param distances output `q x k` CV_32F **squared** L2 distances, ascending per row (computed
    exactly in double for the neighbours found, then rounded to float; ties by index).
    @param indices output `q x k` CV_32S bank rows.
    @param excludeImageIds optional `q x 1` CV_32S: query i ignores the entries whose image id
    equals `excludeImageIds[i]` (-1 excludes nothing). Where fewer than k entries remain, the
    missing neighbours have index -1 and distance FLT_MAX.
    */
    CV_WRAP virtual void search(InputArray queries, int k, OutputArray distances,
                                OutputArray indices,
                                InputArray excludeImageIds = noArray()) const = 0;

    /** @brief Each query's squared distance to its nearest entry, with every group's maximum exact.
    A PatchCore-style image score is the largest nearest distance over the image's patches, and an
    approximate search only ever overestimates a distance (it returns a real entry, not always the
    nearest), so one miss in an image's hundreds of patches raises its score. With SEARCH_HNSW this
    call searches a group's queries exactly in descending order of their approximate distance until
    the next one is below the largest exact distance found: the group's maximum is then exact, at
    the cost of a few exact searches per group; the other queries keep their approximate distances
    (upper bounds, at most that maximum). With the exact methods it equals search() with k = 1.
    @param queries `q x D` CV_32F, q a multiple of groupSize.
    @param groupSize rows per group (an image's patches), consecutive.
    @param distances output `q x 1` CV_32F squared L2 distances.
    */
    CV_WRAP virtual void searchNearest(InputArray queries, int groupSize, OutputArray distances) const = 0;

    /** `N x D` CV_32F: a converted copy when stored as float16, else the bank's own matrix, to be
        treated as read-only (the bank caches statistics of its rows). */
    CV_WRAP virtual Mat getFeatures() const = 0;
    CV_WRAP virtual Mat getImageIds() const = 0;  //!< `N x 1` CV_32S
    CV_WRAP virtual Mat getClassIds() const = 0;  //!< `N x 1` CV_32S
    CV_WRAP virtual MemoryBank::Params getParams() const = 0;

    /** @brief Chooses the device of the brute-force search, as FeatureExtractor's target does.
    @param targetId cv::dnn::DNN_TARGET_CPU (the default) or cv::dnn::DNN_TARGET_CUDA. With CUDA,
    the bank is uploaded to the current CUDA device by the first search (again after add(), clear()
    or read()), the dot products run as cuBLAS SGEMM in tiles with a fused top-k kernel, and the
    winners are recomputed in double as on the CPU: results are those of the CPU search. The CUDA
    search ignores Params::searchMethod (it is always brute force). The target is a run-time choice,
    not saved with the bank.
    @throws cv::Exception when dmad was built without CUDA, when no CUDA device is present, or for
    another target; the search never falls back to the CPU silently. */
    CV_WRAP virtual void setPreferableTarget(int targetId) = 0;
    CV_WRAP virtual int getPreferableTarget() const = 0;
    /** @brief Lets the CUDA search compute its dot products in TF32 on tensor cores
    (cublasSetMathMode). Faster, but candidates are ranked with about 1e-3 relative error before
    the exact recomputation, so a true neighbour can be missed (recall below 1; returned distances
    are still exact for the entries returned). Off by default; no effect on the CPU. */
    CV_WRAP virtual void setCudaAllowTF32(bool allow) = 0;
};

/** @brief Settings of the approximate greedy coreset (PatchCore @cite roth2022towards). */
struct CV_EXPORTS_W_SIMPLE CoresetParams
{
    CV_WRAP CoresetParams();
    //! random projection dimension (0 or >= D: use the features as they are)
    CV_PROP_RW int projectionDims;
    //! random starting points whose mean distance initialises the search
    CV_PROP_RW int startPoints;
    CV_PROP_RW int seed;            //!< seed of the projection and the starting points
};

/** @brief Greedy k-center (iterative farthest point) selection of `count` rows of `features`.

Picks the row farthest from everything picked so far, `count` times, on a random projection of the
features; the returned indices refer to the original rows. Deterministic for a seed.
@param features `N x D` CV_32F.
@param count rows to select, 1 <= count <= N.
@param params projection and seeding.
@return the selected row indices in the order they were picked.
*/
CV_EXPORTS_W std::vector<int> selectCoreset(InputArray features, int count,
                                            const CoresetParams& params = CoresetParams());

/** @brief Rows of a class-balanced coreset of `features`: at most `count` rows, shared equally
among the class ids (`classIds`, `n x 1` CV_32S; -1, no class, is a group of its own), a group
smaller than its share keeping all its rows and leaving the rest to the others; within a group, the
greedy coreset (selectCoreset()). Returns ascending row indices; all rows when `count >= n`. */
CV_EXPORTS_W std::vector<int> selectBalancedCoreset(InputArray features, InputArray classIds, int count,
                                                    const CoresetParams& params = CoresetParams());

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_MEMORY_BANK_HPP
