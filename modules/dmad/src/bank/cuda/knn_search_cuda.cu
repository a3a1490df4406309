// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Exact k-NN search of MemoryBank on a CUDA device. The method is the CPU's (knn_search.cpp):
//  1. queries and bank are centred on the bank mean (the same float subtraction as the CPU);
//  2. for each query block and bank tile, cuBLAS SGEMM writes -2 q.m for the whole tile;
//  3. a row-wise top-k kernel adds |m|^2 and merges the tile into a running list of the
//     k + kExtraCandidates best values per query and bank segment (one warp per list);
//  4. the candidates are recomputed exactly in double from the stored rows, with the CPU's
//     operation order (no fused multiply-add), and the k best are kept, ties by index.
// Step 4 makes the returned distances those of the CPU search bit for bit wherever both find the
// same neighbours, whatever the SGEMM's rounding (or TF32) did to the ranking of step 3.

// Compiled only where cmake/cuda.cmake defines DMAD_BUILD_CUDA_SEARCH (the standalone build with
// CUDA). An OpenCV tree built with CUDA also compiles src/cuda/*.cu, but there the stub serves.
#ifdef DMAD_BUILD_CUDA_SEARCH

#include "bank/knn_search.hpp"
#include "bank/cuda/knn_search_cuda.hpp"
#include "bank/cuda/cublas_loader.hpp"

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cfloat>
#include <climits>
#include <mutex>

namespace cv {
namespace dmad {

namespace {

//! Slots of a running candidate list: two per lane of the warp that owns it.
constexpr int kListSlots = 64;
//! Bank segments per query (separate lists, merged by the exact step) when queries are few.
constexpr int kMaxSegments = 8;
constexpr int kWarp = 32;
//! Upper bound of the dot-product buffer (floats): 128 MB.
constexpr size_t kDotsBudget = (size_t)32 << 20;
constexpr int kQueryBlockMax = 8192;

void checkCuda(cudaError_t status, const char* call)
{
    if (status != cudaSuccess)
        CV_Error(Error::GpuApiCallError, cv::format("dmad: CUDA call %s failed: %s (%s)", call,
                                                    cudaGetErrorString(status),
                                                    cudaGetErrorName(status)));
}

void checkCublas(const CublasApi& api, cublasStatus_t status, const char* call)
{
    if (status != CUBLAS_STATUS_SUCCESS)
        CV_Error(Error::GpuApiCallError, cv::format("dmad: cuBLAS call %s failed: %s", call,
                                                    api.statusString(status)));
}

#define DMAD_CUDA(call) checkCuda((call), #call)
#define DMAD_CUBLAS(api, call) checkCublas((api), (api).call, #call)
#define DMAD_CUDA_LAUNCHED(kernel) checkCuda(cudaGetLastError(), "launch of " kernel)

//! A device allocation that only grows (scratch space reused by later searches).
template <typename T>
struct DeviceBuffer
{
    T* ptr = nullptr;
    size_t count = 0;

    DeviceBuffer() = default;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() { release(); }

    void release()
    {
        if (ptr)
            cudaFree(ptr);  // no error to report from a destructor
        ptr = nullptr;
        count = 0;
    }
    T* reserve(size_t n)
    {
        if (n > count)
        {
            release();
            DMAD_CUDA(cudaMalloc((void**)&ptr, std::max<size_t>(n, 1) * sizeof(T)));
            count = n;
        }
        return ptr;
    }
};

__device__ __forceinline__ float toFloat(float v) { return v; }
__device__ __forceinline__ float toFloat(__half v) { return __half2float(v); }

//! out = in - mean (per column), in float as the CPU's centring; `in` CV_32F or CV_16F.
template <typename T>
__global__ void centerRows(const T* in, size_t total, int D, const float* mean, float* out)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x)
        out[i] = __fsub_rn(toFloat(in[i]), mean[i % D]);
}

/** centerRows for the queries, which also raises `*nonFinite` for a NaN or an infinity. The CPU
    path's host check (cv::checkRange) takes 0.67 ms for 1024 x 1536 queries on the build machine,
    about an eighth of the SGEMM that this search expects on an H200. */
__global__ void centerQueries(const float* in, size_t total, int D, const float* mean, float* out,
                              int* nonFinite)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x)
    {
        const float v = in[i];
        if (!isfinite(v))
            *nonFinite = 1;  // every writer writes the same value
        out[i] = __fsub_rn(v, mean[i % D]);
    }
}

__global__ void fillLists(float* values, int* indices, size_t total)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x)
    {
        values[i] = FLT_MAX;
        indices[i] = -1;
    }
}

/** A sorted list of up to 64 (value, index) pairs held by one warp: lane l holds slots l (a) and
    l + 32 (b). Empty slots are (FLT_MAX, -1). Pairs are ordered by value, then index. */
struct WarpList
{
    float av, bv;
    int ai, bi;

    __device__ __forceinline__ static bool before(float v1, int i1, float v2, int i2)
    {
        return v1 < v2 || (v1 == v2 && (unsigned)i1 < (unsigned)i2);  // -1 (empty) sorts last
    }

    //! Inserts (v, i) at its rank; the last slot falls off. All lanes call it with the same pair.
    __device__ __forceinline__ void insert(float v, int i, int lane)
    {
        const int pos = __popc(__ballot_sync(0xffffffffu, before(av, ai, v, i))) +
                        __popc(__ballot_sync(0xffffffffu, before(bv, bi, v, i)));
        float pav = __shfl_up_sync(0xffffffffu, av, 1), pbv = __shfl_up_sync(0xffffffffu, bv, 1);
        int pai = __shfl_up_sync(0xffffffffu, ai, 1), pbi = __shfl_up_sync(0xffffffffu, bi, 1);
        const float lastAv = __shfl_sync(0xffffffffu, av, kWarp - 1);
        const int lastAi = __shfl_sync(0xffffffffu, ai, kWarp - 1);
        if (lane == 0)
        {
            pbv = lastAv;  // slot 32's predecessor is slot 31
            pbi = lastAi;
        }
        if (lane > pos) { av = pav; ai = pai; }
        else if (lane == pos) { av = v; ai = i; }
        const int slotB = lane + kWarp;
        if (slotB > pos) { bv = pbv; bi = pbi; }
        else if (slotB == pos) { bv = v; bi = i; }
    }

    __device__ __forceinline__ float valueAt(int slot) const
    {
        return slot < kWarp ? __shfl_sync(0xffffffffu, av, slot)
                            : __shfl_sync(0xffffffffu, bv, slot - kWarp);
    }
};

/** Merges one tile of products into the running lists. One warp per (query, segment): it reads
    its segment of the query's column of `dots` (-2 q.m, bank rows contiguous), adds |m|^2 and
    inserts whatever beats its list's current last kept candidate (slot kc - 1). Almost every
    group of 32 values is rejected by one compare per value and one ballot.
    @param dots      tile products, query j's values at dots + j * ld (bRows valid)
    @param lists     per (query, segment): kListSlots values then kListSlots indices in two arrays */
__global__ void __launch_bounds__(256)
scanTile(const float* __restrict__ dots, int ld, int qRows, int bRows, int b0,
         const float* __restrict__ norms, const int* __restrict__ imageIds,
         const int* __restrict__ exclude, int q0, int segments, int kc,
         float* __restrict__ listValues, int* __restrict__ listIndices)
{
    const int warp = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) / kWarp);
    const int lane = threadIdx.x % kWarp;
    if (warp >= qRows * segments)
        return;  // whole warps leave together
    const int j = warp / segments, seg = warp % segments;
    const int query = q0 + j;
    // segments start at multiples of 4 so that float4 loads stay aligned (ld and b0 are too)
    const int segLen = ((bRows + segments - 1) / segments + 3) & ~3;
    const int s0 = ::min(bRows, seg * segLen), s1 = ::min(bRows, s0 + segLen);

    const size_t list = ((size_t)query * segments + seg) * kListSlots;
    WarpList best;
    best.av = listValues[list + lane];
    best.ai = listIndices[list + lane];
    best.bv = listValues[list + kWarp + lane];
    best.bi = listIndices[list + kWarp + lane];
    float threshold = best.valueAt(kc - 1);
    const int excluded = exclude ? exclude[query] : -1;
    const float* column = dots + (size_t)j * ld;
    const float* tileNorms = norms + b0;

    for (int start = s0; start < s1; start += 4 * kWarp)
    {
        const int n = start + 4 * lane;
        float v[4];
        if (n + 3 < s1)
        {
            const float4 d = *reinterpret_cast<const float4*>(column + n);
            const float4 m = *reinterpret_cast<const float4*>(tileNorms + n);
            v[0] = m.x + d.x; v[1] = m.y + d.y; v[2] = m.z + d.z; v[3] = m.w + d.w;
        }
        else
        {
            for (int t = 0; t < 4; t++)
                v[t] = n + t < s1 ? tileNorms[n + t] + column[n + t] : FLT_MAX;
        }
        for (int t = 0; t < 4; t++)
        {
            bool pass = v[t] < threshold;
            if (pass && excluded >= 0)
                pass = imageIds[b0 + n + t] != excluded;  // only for the rare passing values
            unsigned mask = __ballot_sync(0xffffffffu, pass);
            while (mask)
            {
                const int src = __ffs(mask) - 1;
                mask &= mask - 1;
                const float value = __shfl_sync(0xffffffffu, v[t], src);
                if (value < threshold)  // the threshold may have dropped since the ballot
                {
                    best.insert(value, b0 + start + 4 * src + t, lane);
                    threshold = best.valueAt(kc - 1);
                }
            }
        }
    }
    listValues[list + lane] = best.av;
    listIndices[list + lane] = best.ai;
    listValues[list + kWarp + lane] = best.bv;
    listIndices[list + kWarp + lane] = best.bi;
}

/** The exact step: one warp per query. Each lane recomputes the squared distances of its share of
    the query's candidates (the first kc slots of each segment's list) in double, in the CPU's order
    (refineCandidates: difference, product, sum, each rounded; no FMA), then the warp extracts the
    k smallest (distance, index) pairs, as the CPU's sort of the same pairs would. */
template <typename T>
__global__ void refine(const float* __restrict__ queries, const T* __restrict__ bank, int D,
                       int Q, const int* __restrict__ listIndices, int segments, int kc, int k,
                       float* __restrict__ outDistances, int* __restrict__ outIndices)
{
    extern __shared__ unsigned char sharedBytes[];
    const int warpsPerBlock = blockDim.x / kWarp;
    const int warpInBlock = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    const int query = blockIdx.x * warpsPerBlock + warpInBlock;
    const int m = segments * kc;
    double* dist = reinterpret_cast<double*>(sharedBytes) + (size_t)warpInBlock * m;
    int* idx = reinterpret_cast<int*>(reinterpret_cast<double*>(sharedBytes) +
                                      (size_t)warpsPerBlock * m) + (size_t)warpInBlock * m;
    if (query >= Q)
        return;
    const float* q = queries + (size_t)query * D;
    for (int c = lane; c < m; c += kWarp)
    {
        const int seg = c / kc, slot = c % kc;
        const int row = listIndices[((size_t)query * segments + seg) * kListSlots + slot];
        double sum = 0;
        if (row >= 0)
        {
            const T* mrow = bank + (size_t)row * D;
            for (int d = 0; d < D; d++)
            {
                const double t = (double)q[d] - (double)toFloat(mrow[d]);
                sum = __dadd_rn(sum, __dmul_rn(t, t));
            }
        }
        dist[c] = sum;
        idx[c] = row;
    }
    __syncwarp();
    for (int r = 0; r < k; r++)
    {
        // this lane's smallest remaining pair, then the warp's
        double bestD = DBL_MAX;
        int bestI = INT_MAX, bestC = -1;
        for (int c = lane; c < m; c += kWarp)
            if (idx[c] >= 0 && (dist[c] < bestD || (dist[c] == bestD && idx[c] < bestI)))
            {
                bestD = dist[c];
                bestI = idx[c];
                bestC = c;
            }
        for (int offset = kWarp / 2; offset > 0; offset /= 2)
        {
            const double otherD = __shfl_xor_sync(0xffffffffu, bestD, offset);
            const int otherI = __shfl_xor_sync(0xffffffffu, bestI, offset);
            const int otherC = __shfl_xor_sync(0xffffffffu, bestC, offset);
            if (otherD < bestD || (otherD == bestD && otherI < bestI))
            {
                bestD = otherD;
                bestI = otherI;
                bestC = otherC;
            }
        }
        if (lane == 0)
        {
            const bool found = bestC >= 0;
            outDistances[(size_t)query * k + r] = found ? (float)bestD : FLT_MAX;
            outIndices[(size_t)query * k + r] = found ? bestI : -1;
            if (found)
                idx[bestC] = -1;  // taken
        }
        __syncwarp();
    }
}

int gridFor(size_t threads, int block)
{
    return (int)std::min<size_t>((threads + block - 1) / block, (size_t)1 << 20);
}

} // namespace

String cudaSearchUnavailableReason()
{
    int devices = 0;
    const cudaError_t status = cudaGetDeviceCount(&devices);
    if (status != cudaSuccess)
    {
        cudaGetLastError();  // clear the sticky error of the failed call
        return cv::format("no CUDA device is usable (cudaGetDeviceCount: %s)",
                          cudaGetErrorString(status));
    }
    if (devices == 0)
        return "no CUDA device is usable (cudaGetDeviceCount found none)";
    String error;
    if (!loadCublas(error))
        return error;
    return String();
}

int CudaKnnIndex::maxK()
{
    return kListSlots - kExtraCandidates;
}

struct CudaKnnIndex::Impl
{
    int device = 0;
    int N = 0, D = 0;
    bool half = false;
    const CublasApi* api = nullptr;
    cudaStream_t stream = nullptr;
    cublasHandle_t blas = nullptr;
    DeviceBuffer<unsigned char> rawBank;  // N x D as stored (float or __half)
    DeviceBuffer<float> centeredBank, norms, mean;
    DeviceBuffer<int> imageIds;
    // per-search scratch, grown as needed
    DeviceBuffer<float> rawQueries, centeredQueries, dots, listValues, outDistances;
    DeviceBuffer<int> exclude, listIndices, outIndices, nonFinite;
    std::mutex mutex;  // one search at a time uses the scratch buffers and the stream

    ~Impl()
    {
        if (blas)
            api->destroy(blas);
        if (stream)
            cudaStreamDestroy(stream);
    }
};

CudaKnnIndex::CudaKnnIndex(const Mat& bank, const BankStatistics& stats, const Mat& bankImageIds)
    : impl_(new Impl)
{
    CV_Assert((bank.type() == CV_32F || bank.type() == CV_16F) && bank.isContinuous());
    CV_Assert(stats.mean.type() == CV_32F && (int)stats.mean.total() == bank.cols);
    CV_Assert(stats.centeredNorms.type() == CV_32F && (int)stats.centeredNorms.total() == bank.rows);
    CV_Assert(bankImageIds.type() == CV_32S && (int)bankImageIds.total() == bank.rows);
    const String reason = cudaSearchUnavailableReason();
    if (!reason.empty())
        CV_Error(Error::GpuNotSupported, "dmad: " + reason);
    Impl& s = *impl_;
    String error;
    s.api = loadCublas(error);
    CV_Assert(s.api);  // cudaSearchUnavailableReason() loaded it
    const CublasApi& blas = *s.api;
    DMAD_CUDA(cudaGetDevice(&s.device));
    s.N = bank.rows;
    s.D = bank.cols;
    s.half = bank.depth() == CV_16F;
    DMAD_CUDA(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
    DMAD_CUBLAS(blas, create(&s.blas));
    DMAD_CUBLAS(blas, setStream(s.blas, s.stream));

    const size_t total = (size_t)s.N * s.D;
    const size_t rawBytes = total * bank.elemSize();
    DMAD_CUDA(cudaMemcpyAsync(s.rawBank.reserve(rawBytes), bank.data, rawBytes,
                              cudaMemcpyHostToDevice, s.stream));
    DMAD_CUDA(cudaMemcpyAsync(s.mean.reserve(s.D), stats.mean.ptr<float>(), s.D * sizeof(float),
                              cudaMemcpyHostToDevice, s.stream));
    DMAD_CUDA(cudaMemcpyAsync(s.norms.reserve(s.N), stats.centeredNorms.ptr<float>(),
                              s.N * sizeof(float), cudaMemcpyHostToDevice, s.stream));
    const Mat ids = bankImageIds.isContinuous() ? bankImageIds : bankImageIds.clone();
    DMAD_CUDA(cudaMemcpyAsync(s.imageIds.reserve(s.N), ids.ptr<int>(), s.N * sizeof(int),
                              cudaMemcpyHostToDevice, s.stream));
    float* centered = s.centeredBank.reserve(total);
    if (s.half)
        centerRows<<<gridFor(total, 256), 256, 0, s.stream>>>(
            reinterpret_cast<const __half*>(s.rawBank.ptr), total, s.D, s.mean.ptr, centered);
    else
        centerRows<<<gridFor(total, 256), 256, 0, s.stream>>>(
            reinterpret_cast<const float*>(s.rawBank.ptr), total, s.D, s.mean.ptr, centered);
    DMAD_CUDA_LAUNCHED("centerRows (bank)");
    // the host matrices may be freed or changed once the constructor returns
    DMAD_CUDA(cudaStreamSynchronize(s.stream));
}

CudaKnnIndex::~CudaKnnIndex() {}

void CudaKnnIndex::search(const Mat& queries, const Mat& excludeImageIds, int k, bool allowTF32,
                          Mat& distances, Mat& indices) const
{
    CV_Assert(queries.type() == CV_32F && queries.isContinuous() && queries.cols == impl_->D);
    CV_Assert(excludeImageIds.empty() ||
              (excludeImageIds.type() == CV_32S && (int)excludeImageIds.total() == queries.rows &&
               excludeImageIds.isContinuous()));
    Impl& s = *impl_;
    const CublasApi& blas = *s.api;
    const int Q = queries.rows, N = s.N, D = s.D;
    if (k < 1 || k > maxK())
        CV_Error(Error::StsNotImplemented,
                 cv::format("dmad: the CUDA search supports k = 1..%d (got k = %d); use the CPU "
                            "target for more neighbours", maxK(), k));
    // TF32 ranks candidates with ~1e-3 relative error: keep more of them for the exact step.
    const int extra = allowTF32 ? 4 * kExtraCandidates : kExtraCandidates;
    const int kc = std::min(std::min(k + extra, kListSlots), N);
    const int queryBlock = std::min(Q, kQueryBlockMax);
    // Bank tiles as long as the dot-product budget allows for the query block (multiples of 128).
    const int nRounded = (N + 127) & ~127;
    const int tileRows = (int)std::max<size_t>(
        1024, std::min<size_t>((size_t)nRounded, (kDotsBudget / queryBlock) & ~(size_t)127));
    // Few queries: split each tile into segments, each with its own list, to fill the device.
    const int segments = std::max(1, std::min(kMaxSegments, (4096 + Q - 1) / Q));

    std::lock_guard<std::mutex> lock(s.mutex);
    DMAD_CUDA(cudaSetDevice(s.device));
    DMAD_CUBLAS(blas, setMathMode(s.blas, allowTF32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                    : CUBLAS_DEFAULT_MATH));
    const size_t qTotal = (size_t)Q * D;
    float* rawQ = s.rawQueries.reserve(qTotal);
    float* centeredQ = s.centeredQueries.reserve(qTotal);
    DMAD_CUDA(cudaMemcpyAsync(rawQ, queries.data, qTotal * sizeof(float), cudaMemcpyHostToDevice,
                              s.stream));
    int* nonFinite = s.nonFinite.reserve(1);
    DMAD_CUDA(cudaMemsetAsync(nonFinite, 0, sizeof(int), s.stream));
    centerQueries<<<gridFor(qTotal, 256), 256, 0, s.stream>>>(rawQ, qTotal, D, s.mean.ptr,
                                                              centeredQ, nonFinite);
    DMAD_CUDA_LAUNCHED("centerQueries");
    const int* exclude = nullptr;
    if (!excludeImageIds.empty())
    {
        exclude = s.exclude.reserve(Q);
        DMAD_CUDA(cudaMemcpyAsync(s.exclude.ptr, excludeImageIds.data, Q * sizeof(int),
                                  cudaMemcpyHostToDevice, s.stream));
    }
    const size_t listTotal = (size_t)Q * segments * kListSlots;
    float* listValues = s.listValues.reserve(listTotal);
    int* listIndices = s.listIndices.reserve(listTotal);
    fillLists<<<gridFor(listTotal, 256), 256, 0, s.stream>>>(listValues, listIndices, listTotal);
    DMAD_CUDA_LAUNCHED("fillLists");
    float* dots = s.dots.reserve((size_t)queryBlock * tileRows);

    const float minusTwo = -2.f, zero = 0.f;
    for (int q0 = 0; q0 < Q; q0 += queryBlock)
    {
        const int qRows = std::min(Q, q0 + queryBlock) - q0;
        for (int b0 = 0; b0 < N; b0 += tileRows)
        {
            const int bRows = std::min(N, b0 + tileRows) - b0;
            // column-major view: dots (bRows x qRows, ld tileRows) = -2 * bank_tile^T * queries
            DMAD_CUBLAS(blas, sgemm(s.blas, CUBLAS_OP_T, CUBLAS_OP_N, bRows, qRows, D, &minusTwo,
                                    s.centeredBank.ptr + (size_t)b0 * D, D,
                                    centeredQ + (size_t)q0 * D, D, &zero, dots, tileRows));
            const size_t threads = (size_t)qRows * segments * kWarp;
            scanTile<<<gridFor(threads, 256), 256, 0, s.stream>>>(
                dots, tileRows, qRows, bRows, b0, s.norms.ptr, s.imageIds.ptr, exclude, q0,
                segments, kc, listValues, listIndices);
            DMAD_CUDA_LAUNCHED("scanTile");
        }
    }

    float* outD = s.outDistances.reserve((size_t)Q * k);
    int* outI = s.outIndices.reserve((size_t)Q * k);
    const int warpsPerBlock = 4;
    const size_t shared = (size_t)warpsPerBlock * segments * kc * (sizeof(double) + sizeof(int));
    const int blocks = (Q + warpsPerBlock - 1) / warpsPerBlock;
    if (s.half)
        refine<<<blocks, warpsPerBlock * kWarp, shared, s.stream>>>(
            rawQ, reinterpret_cast<const __half*>(s.rawBank.ptr), D, Q, listIndices, segments, kc,
            k, outD, outI);
    else
        refine<<<blocks, warpsPerBlock * kWarp, shared, s.stream>>>(
            rawQ, reinterpret_cast<const float*>(s.rawBank.ptr), D, Q, listIndices, segments, kc,
            k, outD, outI);
    DMAD_CUDA_LAUNCHED("refine");

    distances.create(Q, k, CV_32F);
    indices.create(Q, k, CV_32S);
    DMAD_CUDA(cudaMemcpyAsync(distances.data, outD, (size_t)Q * k * sizeof(float),
                              cudaMemcpyDeviceToHost, s.stream));
    DMAD_CUDA(cudaMemcpyAsync(indices.data, outI, (size_t)Q * k * sizeof(int),
                              cudaMemcpyDeviceToHost, s.stream));
    int queriesNonFinite = 0;
    DMAD_CUDA(cudaMemcpyAsync(&queriesNonFinite, nonFinite, sizeof(int), cudaMemcpyDeviceToHost,
                              s.stream));
    DMAD_CUDA(cudaStreamSynchronize(s.stream));
    if (queriesNonFinite)
        CV_Error(Error::StsBadArg, "dmad: queries contain NaN or infinite values");
}

}} // namespace cv::dmad

#endif // DMAD_BUILD_CUDA_SEARCH
