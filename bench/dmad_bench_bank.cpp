// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Benchmarks of cv::dmad::MemoryBank and selectCoreset.
//
// With no arguments: exact 1-NN of Q = 1024 queries against banks of N = 20000 and 74321 rows of
// D = 1536 (the paper's MVTec bank), 2 threads, timed for the bank, for faiss IndexFlatL2 and for
// one BLAS sgemm of the same shape (Q x N x D), 7 repetitions interleaved. Ends with one line per
// case (times and ratios of the fastest repetitions, then the ratios of the medians):
//   bank N=<n> Q=<q> D=<d> dmad_ms=<> faiss_ms=<> sgemm_ms=<> ratio_faiss=<> ratio_sgemm=<> ...
// --crossover: brute force against the KD-tree over bank sizes and dimensions.
// --coreset=N: selectCoreset of N random rows of --dims dimensions to --ratio.
// --hnsw=<class folder in MVTec layout>: MemoryBank::SEARCH_HNSW against the exact search on a
//   bank of 74,321 x 1536 real patch features (inception_v3, pooled to the paper's 1536 dims):
//   speed-up, recall@1 and PatchCore-style image AUROC with either search.
// --auroc=<class folder in MVTec layout>: PatchCore-style image AUROC (score = largest 1-NN
//   distance of the image's patches to a --ratio coreset of train/good patches) with the bank in
//   float32 and in float16, to measure what half-precision storage costs.

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/dmad.hpp>

#include <faiss/IndexFlat.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

// The standard CBLAS entry point (OpenBLAS, reference BLAS, ...), declared here so that no
// particular cblas.h is needed.
extern "C" void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
                            const float* a, int lda, const float* b, int ldb, float beta, float* c,
                            int ldc);
// OpenBLAS's thread control; weak, so that the program also links against other BLAS libraries.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" char* openblas_get_corename() __attribute__((weak));
extern "C" int openblas_get_parallel() __attribute__((weak));

namespace {

const int kCblasRowMajor = 101, kCblasNoTrans = 111, kCblasTrans = 112;

double nowMs()
{
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

//! The "model name" line of /proc/cpuinfo, so that a benchmark's table says where it ran.
std::string cpuModel()
{
    FILE* f = std::fopen("/proc/cpuinfo", "r");
    char line[512];
    std::string model = "unknown";
    while (f && std::fgets(line, sizeof(line), f))
        if (!std::strncmp(line, "model name", 10) && std::strchr(line, ':'))
        {
            model = std::strchr(line, ':') + 2;
            model.erase(model.find_last_not_of("\n") + 1);
            break;
        }
    if (f)
        std::fclose(f);
    return model;
}

//! Lets the previous run's thread pools (OpenBLAS, OpenMP, TBB) stop spinning before the next.
void settle()
{
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

void setThreads(int threads)
{
    cv::setNumThreads(threads);
    omp_set_num_threads(threads);
    if (openblas_set_num_threads)
        openblas_set_num_threads(threads);
}

struct BankCase
{
    int n, q, d;
    double dmadMs, faissMs, sgemmMs;     // medians
    double dmadMin, faissMin, sgemmMin;  // fastest repetitions
};

BankCase benchBank(int N, int Q, int D, int reps)
{
    cv::RNG rng(12345 + N);
    cv::Mat bank(N, D, CV_32F), queries(Q, D, CV_32F);
    rng.fill(bank, cv::RNG::NORMAL, 0, 1);
    rng.fill(queries, cv::RNG::NORMAL, 0, 1);

    cv::dmad::MemoryBank::Params params;
    params.searchMethod = cv::dmad::MemoryBank::SEARCH_BRUTE_FORCE;
    cv::Ptr<cv::dmad::MemoryBank> mb = cv::dmad::MemoryBank::create(params);
    mb->add(bank);
    faiss::IndexFlatL2 index(D);
    index.add(N, bank.ptr<float>());
    std::vector<float> product((size_t)Q * N);

    cv::Mat dmadDist, dmadIdx;
    std::vector<float> faissDist(Q);
    std::vector<faiss::Index::idx_t> faissIdx(Q);
    const std::vector<std::pair<const char*, std::function<void()>>> runs = {
        {"dmad", [&] { mb->search(queries, 1, dmadDist, dmadIdx); }},
        {"faiss", [&] {
             index.search(Q, queries.ptr<float>(), 1, faissDist.data(), faissIdx.data());
         }},
        {"sgemm", [&] {
             cblas_sgemm(kCblasRowMajor, kCblasNoTrans, kCblasTrans, Q, N, D, 1.f,
                         queries.ptr<float>(), D, bank.ptr<float>(), D, 0.f, product.data(), N);
         }}};
    std::vector<std::vector<double>> times(runs.size());
    for (auto& run : runs)  // warm-up: page in, start the thread pools
        run.second();
    for (int r = 0; r < reps; r++)
        for (size_t m = 0; m < runs.size(); m++)
        {
            settle();
            const double t0 = nowMs();
            runs[m].second();
            times[m].push_back(nowMs() - t0);
        }

    int agree = 0;
    for (int i = 0; i < Q; i++)
        agree += dmadIdx.at<int>(i) == (int)faissIdx[i];
    const double gflop = 2.0 * Q * N * D * 1e-9;
    std::printf("N=%-6d Q=%d D=%d  (%.1f GFLOP, %d reps)  1-NN equal to faiss: %d/%d\n", N, Q, D,
                gflop, reps, agree, Q);
    for (size_t m = 0; m < runs.size(); m++)
    {
        const double med = median(times[m]);
        std::printf("  %-6s median %8.1f ms  min %8.1f ms  %6.1f GFLOP/s\n", runs[m].first, med,
                    *std::min_element(times[m].begin(), times[m].end()), gflop / med * 1e3);
    }
    std::fflush(stdout);
    auto fastest = [&](size_t m) { return *std::min_element(times[m].begin(), times[m].end()); };
    return BankCase{N, Q, D, median(times[0]), median(times[1]), median(times[2]),
                    fastest(0), fastest(1), fastest(2)};
}

std::vector<int> parseList(const cv::String& text)
{
    std::vector<int> values;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ','))
        values.push_back(std::stoi(item));
    return values;
}

void benchCrossover(int Q, int reps, const std::vector<int>& sizes, const std::vector<int>& dims)
{
    std::printf("KD-tree vs brute force, Q=%d, median of %d, ms "
                "(tree build excluded, shown apart)\n", Q, reps);
    std::printf("%8s %4s %10s %10s %10s %8s %6s\n", "N", "D", "brute_ms", "kdtree_ms", "build_ms",
                "ratio", "auto");
    for (int N : sizes)
        for (int D : dims)
        {
            cv::RNG rng(7 + N + D);
            cv::Mat bank(N, D, CV_32F), queries(Q, D, CV_32F);
            rng.fill(bank, cv::RNG::NORMAL, 0, 1);
            rng.fill(queries, cv::RNG::NORMAL, 0, 1);
            cv::dmad::MemoryBank::Params bf, kd;
            bf.searchMethod = cv::dmad::MemoryBank::SEARCH_BRUTE_FORCE;
            kd.searchMethod = cv::dmad::MemoryBank::SEARCH_KDTREE;
            cv::Ptr<cv::dmad::MemoryBank> a = cv::dmad::MemoryBank::create(bf);
            cv::Ptr<cv::dmad::MemoryBank> b = cv::dmad::MemoryBank::create(kd);
            a->add(bank);
            b->add(bank);
            cv::Mat d, i;
            double t0 = nowMs();
            b->search(queries, 1, d, i);  // builds the tree
            const double build = nowMs() - t0;
            a->search(queries, 1, d, i);
            std::vector<double> ta, tb;
            for (int r = 0; r < reps; r++)
            {
                t0 = nowMs();
                a->search(queries, 1, d, i);
                ta.push_back(nowMs() - t0);
                t0 = nowMs();
                b->search(queries, 1, d, i);
                tb.push_back(nowMs() - t0);
            }
            const double ma = median(ta), mbt = median(tb);
            std::printf("%8d %4d %10.2f %10.2f %10.2f %8.2f %6s\n", N, D, ma, mbt,
                        std::max(0.0, build - mbt), mbt / ma,
                        cv::dmad::MemoryBank::kdTreeIsFaster(N, D) ? "kdtree" : "brute");
            std::fflush(stdout);
        }
}

void benchCoreset(int N, int D, double ratio)
{
    const int count = std::max(1, (int)(N * ratio));
    std::printf("coreset: %d x %d random N(0,1) rows -> %d (%.1f %%), projection to 128, "
                "10 starts\n", N, D, count, 100 * ratio);
    std::fflush(stdout);
    cv::Mat features(N, D, CV_32F);
    cv::RNG rng(99);
    const double t0 = nowMs();
    parallel_for_(cv::Range(0, 64), [&](const cv::Range& r) {
        for (int part = r.start; part < r.end; part++)
        {
            cv::RNG local(1000 + part);
            cv::Mat rows = features.rowRange(N * part / 64, N * (part + 1) / 64);
            local.fill(rows, cv::RNG::NORMAL, 0, 1);
        }
    });
    const double t1 = nowMs();
    const std::vector<int> picks = cv::dmad::selectCoreset(features, count);
    const double t2 = nowMs();
    std::printf("coreset N=%d D=%d picks=%d data_s=%.1f select_s=%.1f first=%d last=%d\n", N, D,
                (int)picks.size(), (t1 - t0) / 1e3, (t2 - t1) / 1e3, picks.front(), picks.back());
}

std::vector<cv::String> imagesUnder(const cv::String& folder)
{
    std::vector<cv::String> all, images;
    cv::glob(folder, all, true);
    for (const cv::String& f : all)
        if (f.size() > 4 && (f.substr(f.size() - 4) == ".png" || f.substr(f.size() - 4) == ".jpg"))
            images.push_back(f);
    std::sort(images.begin(), images.end());
    return images;
}

//! Patch features of every image, one Mat (grid cells x dims) per image.
std::vector<cv::Mat> extractAll(cv::dmad::FeatureExtractor& extractor,
                                const std::vector<cv::String>& files)
{
    std::vector<cv::Mat> features;
    for (const cv::String& f : files)
    {
        cv::Mat image = cv::imread(f, cv::IMREAD_COLOR), patches;
        cv::Size grid;
        extractor.extract(image, patches, grid);
        features.push_back(patches.clone());
    }
    return features;
}

double auroc(const std::vector<double>& normal, const std::vector<double>& anomalous)
{
    double wins = 0;
    for (double a : anomalous)
        for (double n : normal)
            wins += a > n ? 1.0 : (a == n ? 0.5 : 0.0);
    return wins / ((double)normal.size() * anomalous.size());
}

void benchAuroc(const cv::String& classFolder, const cv::String& model, double ratio)
{
    cv::dmad::FeatureExtractor::Params params =
        cv::dmad::FeatureExtractor::preset("mobilenetv2-int8", model);
    cv::Ptr<cv::dmad::FeatureExtractor> extractor = cv::dmad::FeatureExtractor::create(params);
    const std::vector<cv::String> trainFiles = imagesUnder(classFolder + "/train/good");
    std::vector<cv::String> goodFiles = imagesUnder(classFolder + "/test/good"), badFiles;
    for (const cv::String& f : imagesUnder(classFolder + "/test"))
        if (f.find("/test/good/") == cv::String::npos)
            badFiles.push_back(f);
    const double t0 = nowMs();
    cv::Mat train;
    for (const cv::Mat& f : extractAll(*extractor, trainFiles))
        train.push_back(f);
    const std::vector<cv::Mat> good = extractAll(*extractor, goodFiles);
    const std::vector<cv::Mat> bad = extractAll(*extractor, badFiles);
    const double t1 = nowMs();
    const int count = std::max(1, (int)(train.rows * ratio));
    const std::vector<int> picks = cv::dmad::selectCoreset(train, count);
    cv::Mat coreset;
    for (int i : picks)
        coreset.push_back(train.row(i));
    const double t2 = nowMs();
    std::printf("auroc: %s: %d train patches x %d dims -> coreset %d; %d good, %d defective test "
                "images (extraction %.1f s, coreset %.1f s)\n", classFolder.c_str(), train.rows,
                train.cols, count, (int)good.size(), (int)bad.size(), (t1 - t0) / 1e3,
                (t2 - t1) / 1e3);
    double maxScoreChange = 0;
    std::vector<double> previous;
    for (int half = 0; half < 2; half++)
    {
        cv::dmad::MemoryBank::Params bankParams;
        bankParams.halfPrecisionStorage = half != 0;
        cv::Ptr<cv::dmad::MemoryBank> bank = cv::dmad::MemoryBank::create(bankParams);
        bank->add(coreset);
        auto scores = [&](const std::vector<cv::Mat>& images) {
            std::vector<double> s;
            for (const cv::Mat& patches : images)
            {
                cv::Mat d, idx;
                bank->search(patches, 1, d, idx);
                double maxD;
                cv::minMaxLoc(d, 0, &maxD);
                s.push_back(std::sqrt(maxD));
            }
            return s;
        };
        const std::vector<double> sGood = scores(good), sBad = scores(bad);
        std::vector<double> all(sGood);
        all.insert(all.end(), sBad.begin(), sBad.end());
        if (half)
            for (size_t i = 0; i < all.size(); i++)
                maxScoreChange =
                    std::max(maxScoreChange, std::abs(all[i] - previous[i]) / previous[i]);
        previous = all;
        std::printf("auroc: %s bank: image AUROC %.4f\n", half ? "float16" : "float32",
                    auroc(sGood, sBad));
    }
    std::printf("auroc: largest relative change of an image score float32 -> float16: %.2e\n",
                maxScoreChange);
}

/** HNSW against the exact search on real patch features: a bank of `n` train/good patches of a
    class (a random subset when it has more), the patches of `testImages` of its test images
    (spread over the sorted good and defective lists) as queries. Prints both search times, the
    graph's build time, recall@1 and the PatchCore-style image AUROC with either search. */
void benchHnsw(const cv::String& classFolder, const cv::String& preset, const cv::String& model, int n,
               int testImages, int dims, const std::vector<int>& efSearches, int M, int efConstruction)
{
    cv::dmad::FeatureExtractor::Params params = cv::dmad::FeatureExtractor::preset(preset, model);
    params.layerDims = params.featureDims = dims;
    cv::Ptr<cv::dmad::FeatureExtractor> extractor = cv::dmad::FeatureExtractor::create(params);
    std::vector<cv::String> goodFiles = imagesUnder(classFolder + "/test/good"), badFiles;
    for (const cv::String& f : imagesUnder(classFolder + "/test"))
        if (f.find("/test/good/") == cv::String::npos)
            badFiles.push_back(f);
    auto spread = [](const std::vector<cv::String>& files, int count) {
        std::vector<cv::String> picked;
        for (int i = 0; i < count && i < (int)files.size(); i++)
            picked.push_back(files[(size_t)i * files.size() / std::min<size_t>(count, files.size())]);
        return picked;
    };
    goodFiles = spread(goodFiles, testImages / 2);
    badFiles = spread(badFiles, testImages - (int)goodFiles.size());
    const double t0 = nowMs();
    cv::Mat train;
    for (const cv::Mat& f : extractAll(*extractor, imagesUnder(classFolder + "/train/good")))
        train.push_back(f);
    if (train.rows > n)
    {
        std::vector<int> rows(train.rows);
        for (int i = 0; i < train.rows; i++)
            rows[i] = i;
        cv::RNG rng(7);
        cv::randShuffle(rows, 1.0, &rng);
        cv::Mat subset(n, train.cols, CV_32F);
        for (int i = 0; i < n; i++)
            train.row(rows[i]).copyTo(subset.row(i));
        train = subset;
    }
    const std::vector<cv::Mat> good = extractAll(*extractor, goodFiles), bad = extractAll(*extractor, badFiles);
    for (const cv::Mat& f : bad)
        CV_Assert(f.rows == good[0].rows);  // one grid: images are groups of equal size
    cv::Mat queries;
    for (const cv::Mat& f : good)
        queries.push_back(f);
    for (const cv::Mat& f : bad)
        queries.push_back(f);
    std::printf("hnsw: %s, %s features: bank %d x %d, %d queries (%d good and %d defective test images); "
                "extraction %.1f s\n", classFolder.c_str(), preset.c_str(), train.rows, train.cols,
                queries.rows, (int)good.size(), (int)bad.size(), (nowMs() - t0) / 1e3);
    std::fflush(stdout);

    cv::dmad::MemoryBank::Params exactParams;
    exactParams.searchMethod = cv::dmad::MemoryBank::SEARCH_BRUTE_FORCE;
    cv::Ptr<cv::dmad::MemoryBank> exact = cv::dmad::MemoryBank::create(exactParams);
    exact->add(train);
    cv::Mat de, ie;
    exact->search(queries.rowRange(0, 1), 1, de, ie);  // bank statistics
    // fastest of a few runs: the machines are shared
    auto fastestMs = [](int runs, const std::function<void()>& run) {
        double best = 1e300;
        for (int r = 0; r < runs; r++)
        {
            settle();
            const double start = nowMs();
            run();
            best = std::min(best, nowMs() - start);
        }
        return best;
    };
    const double exactMs = fastestMs(2, [&] { exact->search(queries, 1, de, ie); });
    auto imageAuroc = [&](const cv::Mat& d) {
        std::vector<double> sGood, sBad;
        int row = 0;
        for (size_t i = 0; i < good.size() + bad.size(); i++)
        {
            const int rows = (i < good.size() ? good[i] : bad[i - good.size()]).rows;
            double maxD;
            cv::minMaxLoc(d.rowRange(row, row + rows), 0, &maxD);
            (i < good.size() ? sGood : sBad).push_back(std::sqrt(maxD));
            row += rows;
        }
        return auroc(sGood, sBad);
    };
    // efSearch is fixed when the graph is built or loaded: one graph per value
    for (int ef : efSearches)
    {
        cv::dmad::MemoryBank::Params hnswParams;
        hnswParams.searchMethod = cv::dmad::MemoryBank::SEARCH_HNSW;
        hnswParams.hnswEfSearch = ef;
        hnswParams.hnswM = M;
        hnswParams.hnswEfConstruction = efConstruction;
        cv::Ptr<cv::dmad::MemoryBank> approx = cv::dmad::MemoryBank::create(hnswParams);
        approx->add(train);
        cv::Mat dh, ih;
        const double t = nowMs();
        approx->search(queries.rowRange(0, 1), 1, dh, ih);  // builds the graph
        const double buildS = (nowMs() - t) / 1e3;
        const double hnswMs = fastestMs(3, [&] { approx->search(queries, 1, dh, ih); });
        int hits = 0;
        for (int i = 0; i < queries.rows; i++)
            hits += ie.at<int>(i) == ih.at<int>(i);
        // the image maxima made exact (searchNearest): what the PatchCore scorer calls
        cv::Mat dn;
        const double nearestMs = fastestMs(3, [&] { approx->searchNearest(queries, good[0].rows, dn); });
        std::printf("hnsw N=%d D=%d queries=%d M=%d ef_construction=%d ef_search=%d build_s=%.1f exact_ms=%.0f "
                    "hnsw_ms=%.0f speedup=%.1f recall1=%.4f auroc_exact=%.4f auroc_hnsw=%.4f "
                    "exact_max_ms=%.0f speedup_exact_max=%.1f auroc_exact_max=%.4f\n", train.rows,
                    train.cols, queries.rows, hnswParams.hnswM, hnswParams.hnswEfConstruction,
                    hnswParams.hnswEfSearch, buildS, exactMs, hnswMs, exactMs / hnswMs,
                    hits / (double)queries.rows, imageAuroc(de), imageAuroc(dh), nearestMs,
                    exactMs / nearestMs, imageAuroc(dn));
        std::fflush(stdout);
    }
}

} // namespace

int main(int argc, char** argv)
{
    const cv::String keys =
        "{help h      |       | print this help }"
        "{threads     | 2     | threads for the bank (cv::setNumThreads), faiss (OpenMP), BLAS }"
        "{reps        | 7     | timed repetitions per method (fastest and median reported) }"
        "{crossover   |       | compare brute force and KD-tree over sizes and dimensions }"
        "{coreset     | 0     | time selectCoreset on this many random rows instead }"
        "{dims        | 1536  | feature dimension for --coreset }"
        "{ratio       | 0.02  | coreset fraction for --coreset }"
        "{n           | 0     | bank size: only this one (default: 20000 and 74321) }"
        "{auroc       |       | MVTec-layout class folder: float32 vs float16 bank AUROC }"
        "{hnsw        |       | MVTec-layout class folder: HNSW against exact search on real features }"
        "{preset      | inception_v3 | backbone preset for --hnsw }"
        "{hnsw_model  | build/backbones/nsfwjs_inception_v3.onnx | backbone file for --hnsw }"
        "{hnsw_n      | 74321 | bank rows for --hnsw (the paper's MVTec bank) }"
        "{hnsw_dims   | 1536  | feature dimensions for --hnsw (the paper's) }"
        "{test_images | 100   | test images for --hnsw }"
        "{hnsw_ef     | 32,64,128,256 | efSearch values for --hnsw }"
        "{hnsw_m      | 16    | links per entry for --hnsw }"
        "{hnsw_efc    | 100   | efConstruction for --hnsw }"
        "{model       | ../shared/models/mobilenetv2-12-int8.onnx | backbone for --auroc }"
        "{cross_n     | 1000,2000,10000,100000 | bank sizes for --crossover }"
        "{cross_d     | 2,4,8,12,16,24,32,64   | dimensions for --crossover }";
    cv::CommandLineParser parser(argc, argv, keys);
    parser.about("dmad_bench_bank: MemoryBank exact k-NN against faiss and sgemm; coreset timing");
    if (parser.has("help"))
    {
        parser.printMessage();
        return 0;
    }
    const int threads = parser.get<int>("threads"), reps = parser.get<int>("reps");
    if (!parser.check())
    {
        parser.printErrors();
        return 1;
    }
    setThreads(threads);
    std::printf("CPU: %s\n", cpuModel().c_str());
    std::printf("dmad search: %s\n", cv::dmad::MemoryBank::searchImplementation().c_str());
    if (openblas_get_corename)
        std::printf("peers' BLAS: OpenBLAS, kernels for %s, %s\n", openblas_get_corename(),
                    openblas_get_parallel && openblas_get_parallel() ? "threaded" : "sequential");
    std::printf("threads: %d (bank: cv::parallel_for_, faiss: OpenMP + BLAS, sgemm: BLAS)\n",
                threads);
    if (parser.has("crossover"))
    {
        benchCrossover(1024, reps, parseList(parser.get<cv::String>("cross_n")),
                       parseList(parser.get<cv::String>("cross_d")));
        return 0;
    }
    if (parser.has("hnsw"))
    {
        benchHnsw(parser.get<cv::String>("hnsw"), parser.get<cv::String>("preset"),
                  parser.get<cv::String>("hnsw_model"), parser.get<int>("hnsw_n"),
                  parser.get<int>("test_images"), parser.get<int>("hnsw_dims"),
                  parseList(parser.get<cv::String>("hnsw_ef")), parser.get<int>("hnsw_m"),
                  parser.get<int>("hnsw_efc"));
        return 0;
    }
    if (parser.has("auroc"))
    {
        benchAuroc(parser.get<cv::String>("auroc"), parser.get<cv::String>("model"),
                   parser.has("ratio") ? parser.get<double>("ratio") : 0.1);
        return 0;
    }
    if (parser.get<int>("coreset") > 0)
    {
        benchCoreset(parser.get<int>("coreset"), parser.get<int>("dims"),
                     parser.get<double>("ratio"));
        return 0;
    }
    std::vector<BankCase> cases;
    std::vector<int> sizes = {20000, 74321};
    if (parser.get<int>("n") > 0)
        sizes = {parser.get<int>("n")};
    for (int N : sizes)
        cases.push_back(benchBank(N, 1024, 1536, reps));
    // The ratios compare the fastest repetitions: on a shared machine other tenants only ever add
    // time, so the minimum is the closest estimate of each method's own cost; the medians' ratios
    // follow for comparison.
    for (const BankCase& c : cases)
        std::printf("bank N=%d Q=%d D=%d dmad_ms=%.1f faiss_ms=%.1f sgemm_ms=%.1f ratio_faiss=%.3f "
                    "ratio_sgemm=%.3f median_ratio_faiss=%.3f median_ratio_sgemm=%.3f\n", c.n, c.q,
                    c.d, c.dmadMin, c.faissMin, c.sgemmMin, c.dmadMin / c.faissMin,
                    c.dmadMin / c.sgemmMin, c.dmadMs / c.faissMs, c.dmadMs / c.sgemmMs);
    return 0;
}
