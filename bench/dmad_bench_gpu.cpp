// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// dmad_bench_gpu: MemoryBank's CUDA search (DNN_TARGET_CUDA) against one cuBLAS SGEMM of the same
// shape (Q x N x D) on the same device, for the paper's banks and the MobileNetV2 configuration.
// The search is timed as a caller sees it (queries uploaded, results downloaded, host copies);
// the SGEMM alone on device buffers, with CUDA events. Also: TF32 search and SGEMM with TF32
// 1-NN recall, a batch of 32 images (32768 queries), and a check of the first queries against the
// CPU search. Data: N(0, 1). One line per case, `gpu key=value ...`, for scripts/gpu-check.sh.

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/dmad.hpp>
#include <opencv2/dnn/dnn.hpp>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

using namespace cv;

namespace {

void check(cudaError_t status, const char* what)
{
    if (status != cudaSuccess)
    {
        std::fprintf(stderr, "dmad_bench_gpu: %s: %s\n", what, cudaGetErrorString(status));
        std::exit(2);
    }
}

void check(cublasStatus_t status, const char* what)
{
    if (status != CUBLAS_STATUS_SUCCESS)
    {
        std::fprintf(stderr, "dmad_bench_gpu: %s: %s\n", what, cublasGetStatusString(status));
        std::exit(2);
    }
}

std::vector<int> parseList(const std::string& text)
{
    std::vector<int> values;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ','))
        if (!item.empty())
            values.push_back(std::atoi(item.c_str()));
    return values;
}

//! N(0, 1) rows, generated in parallel stripes (each with its own seed: the same for any threads).
Mat randomRows(int rows, int cols, uint64 seed)
{
    Mat m(rows, cols, CV_32F);
    const int stripes = 64;
    parallel_for_(Range(0, stripes), [&](const Range& range) {
        for (int s = range.start; s < range.end; s++)
        {
            const int r0 = (int)((int64)rows * s / stripes), r1 = (int)((int64)rows * (s + 1) / stripes);
            if (r1 > r0)
            {
                RNG rng(seed * 1000003 + s);
                Mat part = m.rowRange(r0, r1);
                rng.fill(part, RNG::NORMAL, 0, 1);
            }
        }
    });
    return m;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double nowMs()
{
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now().time_since_epoch()).count();
}

//! Median wall time of `reps` searches after one warm-up.
double timeSearch(const Ptr<dmad::MemoryBank>& bank, const Mat& queries, int k, int reps,
                  Mat& d, Mat& idx)
{
    bank->search(queries, k, d, idx);  // warm-up (uploads the bank the first time)
    std::vector<double> times;
    for (int r = 0; r < reps; r++)
    {
        const double t0 = nowMs();
        bank->search(queries, k, d, idx);
        times.push_back(nowMs() - t0);
    }
    return median(times);
}

/** Median time of one cuBLAS SGEMM C(N x Q) = A^T B with A = bank (D x N column-major) and
    B = queries (D x Q), on device buffers, as the search's products are laid out. */
double timeSgemm(cublasHandle_t blas, const float* bank, const float* queries, float* out, int N,
                 int Q, int D, bool tf32, int reps)
{
    check(cublasSetMathMode(blas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
          "cublasSetMathMode");
    const float alpha = -2.f, beta = 0.f;
    cudaEvent_t start, stop;
    check(cudaEventCreate(&start), "cudaEventCreate");
    check(cudaEventCreate(&stop), "cudaEventCreate");
    std::vector<double> times;
    for (int r = 0; r <= reps; r++)
    {
        check(cudaEventRecord(start), "cudaEventRecord");
        check(cublasSgemm(blas, CUBLAS_OP_T, CUBLAS_OP_N, N, Q, D, &alpha, bank, D, queries, D,
                          &beta, out, N), "cublasSgemm");
        check(cudaEventRecord(stop), "cudaEventRecord");
        check(cudaEventSynchronize(stop), "cudaEventSynchronize");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
        if (r > 0)  // the first one is the warm-up
            times.push_back(ms);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return median(times);
}

} // namespace

static int run(int argc, char** argv);

int main(int argc, char** argv)
{
    try
    {
        return run(argc, argv);
    }
    catch (const cv::Exception& e)
    {
        std::fprintf(stderr, "dmad_bench_gpu: %s\n", e.err.c_str());
        return 1;
    }
}

static int run(int argc, char** argv)
{
    const String keys =
        "{ n       | 74321,177336 | bank sizes }"
        "{ d       | 1536,288     | feature dimensions (paper: 1536; MobileNetV2 configuration: 288) }"
        "{ q       | 1024         | queries of one 256x256 image (32 x 32 patches) }"
        "{ batch   | 32           | images of the batch case (0: skip it) }"
        "{ k       | 1            | neighbours }"
        "{ reps    | 5            | timed repetitions (median) }"
        "{ check   | 64           | queries also searched on the CPU and compared }"
        "{ help h  |              | }";
    CommandLineParser parser(argc, argv, keys);
    if (parser.has("help"))
    {
        parser.printMessage();
        return 0;
    }
    const std::vector<int> sizes = parseList(parser.get<String>("n"));
    const std::vector<int> dims = parseList(parser.get<String>("d"));
    const int Q = parser.get<int>("q"), batch = parser.get<int>("batch");
    const int k = parser.get<int>("k"), reps = std::max(1, parser.get<int>("reps"));
    const int checkRows = parser.get<int>("check");

    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    cudaDeviceProp prop;
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    std::printf("device: %s, %d SMs, %.1f GiB; CPU threads: %d\n", prop.name,
                prop.multiProcessorCount, prop.totalGlobalMem / 1073741824.0, getNumThreads());
    cublasHandle_t blas;
    check(cublasCreate(&blas), "cublasCreate");

    for (int D : dims)
        for (int N : sizes)
        {
            const Mat bankRows = randomRows(N, D, 1 + N + D);
            const int batchQ = batch > 0 ? batch * Q : 0;
            const Mat allQueries = randomRows(std::max(Q, batchQ), D, 7 + N + D);
            const Mat queries = allQueries.rowRange(0, Q);
            dmad::MemoryBank::Params params;
            params.searchMethod = dmad::MemoryBank::SEARCH_BRUTE_FORCE;
            Ptr<dmad::MemoryBank> bank = dmad::MemoryBank::create(params);
            bank->add(bankRows);
            bank->setPreferableTarget(dnn::DNN_TARGET_CUDA);

            const double t0 = nowMs();
            Mat d, idx;
            bank->search(queries.rowRange(0, 1), k, d, idx);  // statistics and upload
            const double uploadMs = nowMs() - t0;
            const double searchMs = timeSearch(bank, queries, k, reps, d, idx);
            const Mat fp32Idx = idx.clone(), fp32D = d.clone();

            // the first queries on the CPU: the same neighbours and distances
            int agree = 0;
            const int rows = std::min(checkRows, Q);
            if (rows > 0)
            {
                Mat cd, ci;
                bank->setPreferableTarget(dnn::DNN_TARGET_CPU);
                bank->search(queries.rowRange(0, rows), k, cd, ci);
                bank->setPreferableTarget(dnn::DNN_TARGET_CUDA);
                for (int i = 0; i < rows; i++)
                    agree += cv::norm(ci.row(i), fp32Idx.row(i), NORM_INF) == 0 &&
                             cv::norm(cd.row(i), fp32D.row(i), NORM_INF) == 0;
            }

            bank->setCudaAllowTF32(true);
            const double tf32Ms = timeSearch(bank, queries, k, reps, d, idx);
            int recall = 0;
            for (int i = 0; i < Q; i++)
                recall += idx.at<int>(i, 0) == fp32Idx.at<int>(i, 0);
            bank->setCudaAllowTF32(false);

            double batchMs = 0;
            if (batchQ > 0)
                batchMs = timeSearch(bank, allQueries.rowRange(0, batchQ), k,
                                     std::max(1, reps / 2), d, idx);

            // SGEMM alone, same shapes, own device buffers
            const int gemmQ = std::max(Q, batchQ);
            float *devBank = 0, *devQueries = 0, *devOut = 0;
            check(cudaMalloc((void**)&devBank, (size_t)N * D * sizeof(float)), "cudaMalloc bank");
            check(cudaMalloc((void**)&devQueries, (size_t)gemmQ * D * sizeof(float)), "cudaMalloc queries");
            check(cudaMalloc((void**)&devOut, (size_t)N * gemmQ * sizeof(float)), "cudaMalloc products");
            check(cudaMemcpy(devBank, bankRows.data, (size_t)N * D * sizeof(float),
                             cudaMemcpyHostToDevice), "upload bank");
            check(cudaMemcpy(devQueries, allQueries.data, (size_t)gemmQ * D * sizeof(float),
                             cudaMemcpyHostToDevice), "upload queries");
            const double sgemmMs = timeSgemm(blas, devBank, devQueries, devOut, N, Q, D, false, reps);
            const double sgemmTf32Ms = timeSgemm(blas, devBank, devQueries, devOut, N, Q, D, true, reps);
            const double batchSgemmMs = batchQ > 0 ? timeSgemm(blas, devBank, devQueries, devOut, N,
                                                               batchQ, D, false, std::max(1, reps / 2))
                                                   : 0;
            cudaFree(devBank);
            cudaFree(devQueries);
            cudaFree(devOut);

            const double gflop = 2.0 * Q * N * D * 1e-9;
            std::printf("gpu N=%d D=%d Q=%d k=%d search_ms=%.3f sgemm_ms=%.3f ratio=%.3f "
                        "search_tflops=%.1f tf32_search_ms=%.3f tf32_sgemm_ms=%.3f tf32_ratio=%.3f "
                        "tf32_recall=%d/%d cpu_check=%d/%d upload_ms=%.1f",
                        N, D, Q, k, searchMs, sgemmMs, searchMs / sgemmMs, gflop / searchMs,
                        tf32Ms, sgemmTf32Ms, tf32Ms / sgemmTf32Ms, recall, Q, agree, rows, uploadMs);
            if (batchQ > 0)
                std::printf(" batch_Q=%d batch_search_ms=%.3f batch_ms_per_image=%.3f "
                            "batch_sgemm_ms=%.3f batch_ratio=%.3f",
                            batchQ, batchMs, batchMs / batch, batchSgemmMs, batchMs / batchSgemmMs);
            std::printf("\n");
            std::fflush(stdout);
        }
    cublasDestroy(blas);
    return 0;
}
