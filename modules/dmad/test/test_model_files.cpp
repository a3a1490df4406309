// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Model files on an unattended line: saves are atomic, damaged or foreign files are refused with an
// error naming the file (and the node), and no byte-level damage crashes or hangs a load.

#include "test_precomp.hpp"
#include "test_files.hpp"
#include "test_tiny_model.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <zlib.h>

#ifdef __unix__
#include <csignal>
#include <sys/resource.h>
#endif

namespace opencv_test { namespace {

std::vector<String> filesIn(const std::string& dir)
{
    std::vector<String> files;
    cv::utils::fs::glob(dir, "*", files, false, true);  // dot files (temporaries) included
    return files;
}

/** A trained model saved as .yml and .yml.gz, once per process and kind: "micro" (the pooling
    backbone, always available) or "tiny" (the registry MobileNetV2, registryMobileNet()). */
struct SavedModel
{
    TempDir dir;
    std::string yml, gz;
    Ptr<DMAD> model;
    std::vector<Mat> images;  //!< images to score after a load
    std::vector<float> scores;
    int dims = 0, hidden = 0;

    explicit SavedModel(const std::string& kind)
    {
        yml = dir.path + "/model.yml";
        gz = dir.path + "/model.yml.gz";
        if (kind == "micro")
        {
            const MicroDataset data;
            model = DMAD::create(microParams());
            model->train(data.normal, data.anomalous, data.masks);
            images = data.testImages;
        }
        else
        {
            const std::string backbone = registryMobileNet();
            if (backbone.empty())
                return;
            const TinyDataset data;
            model = DMAD::create(tinyParams(backbone));
            model->train(data.normal, data.anomalous, data.masks, data.classIds);
            images = std::vector<Mat>(data.testImages.begin(), data.testImages.begin() + 3);
        }
        model->save(yml);
        model->save(gz);
        scores = scoresOf(*model, images);
        dims = model->getMemoryBanks()->getNormalBank()->dims();
        hidden = model->getScoringHead()->hiddenDims();
    }

    static const SavedModel& get(const std::string& kind)
    {
        static std::mutex mutex;
        static std::map<std::string, std::unique_ptr<SavedModel>> models;
        std::lock_guard<std::mutex> lock(mutex);
        std::unique_ptr<SavedModel>& m = models[kind];
        if (!m)
            m.reset(new SavedModel(kind));
        return *m;
    }
};

#define DMAD_SAVED_MODEL(var, kind)                                                         \
    if ((kind) == std::string("tiny") && registryMobileNet().empty())                      \
        DMAD_SKIP_TEST("needs " << backboneDir() << "/nsfwjs_mobilenet_v2.onnx: run scripts/get-backbone.sh"); \
    const SavedModel& var = SavedModel::get(kind)

//! A copy of `text` where the first `from` after the line "<node>:" is replaced by `to`.
std::string editInNode(const std::string& text, const std::string& node, const std::string& from,
                       const std::string& to)
{
    const size_t start = text.find("\n" + node + ":\n");
    if (start == std::string::npos)
        return std::string();
    const size_t at = text.find(from, start);
    if (at == std::string::npos)
        return std::string();
    return text.substr(0, at) + to + text.substr(at + from.size());
}

//! What a gzip file inflates to (zlib, as the loader reads it); empty on a zlib error.
std::string inflated(const std::string& gzFile)
{
    gzFile_s* in = gzopen(gzFile.c_str(), "rb");
    if (!in)
        return std::string();
    std::string text;
    char buffer[1 << 14];
    int n;
    while ((n = gzread(in, buffer, sizeof(buffer))) > 0)
        text.append(buffer, (size_t)n);
    const bool clean = n == 0;
    return gzclose(in) == Z_OK && clean ? text : std::string();
}

//! Loads `path` and expects a cv::Exception naming the file and containing each fragment.
void expectRefused(const std::string& path, const std::vector<std::string>& fragments,
                   const std::string& what)
{
    try
    {
        DMAD::load(path);
        ADD_FAILURE() << what << ": loaded without an error";
    }
    catch (const cv::Exception& e)
    {
        const std::string message = e.what();
        EXPECT_NE(std::string::npos, message.find(path)) << what << ": " << message;
        for (const std::string& fragment : fragments)
            EXPECT_NE(std::string::npos, message.find(fragment)) << what << ": " << message;
    }
}

// ---------------------------------------------------------------------------------------------
// Saving

TEST(DMAD_ModelFiles, failed_saves_leave_no_file_behind)
{
    const SavedModel& saved = SavedModel::get("micro");
    TempDir dir;
    const std::string target = dir.path + "/model.yml";

    // untrained: the save fails before anything is written
    EXPECT_CV_ERROR(DMAD::create(microParams())->save(target), "not trained");
    EXPECT_TRUE(filesIn(dir.path).empty());

    // a folder that does not exist
    EXPECT_CV_ERROR(saved.model->save(dir.path + "/no/such/folder/model.yml"), "cannot write");
    EXPECT_TRUE(filesIn(dir.path).empty());

    // the target is a folder: the temporary is written, the rename fails, the temporary goes
    const std::string folder = dir.path + "/taken.yml";
    ASSERT_TRUE(cv::utils::fs::createDirectory(folder));
    EXPECT_CV_ERROR(saved.model->save(folder), "cannot move");
    EXPECT_EQ(std::vector<String>{ folder }, filesIn(dir.path));

    // a successful save leaves exactly the model
    saved.model->save(target);
    std::vector<String> expected = { folder, target }, files = filesIn(dir.path);
    std::sort(expected.begin(), expected.end());
    std::sort(files.begin(), files.end());
    EXPECT_EQ(expected, files);
}

#ifdef __unix__
/** A write that fails midway (the file size limit stands in for a full disk): the save throws, the
    model saved before is untouched and no temporary remains. */
TEST(DMAD_ModelFiles, write_failing_midway_keeps_the_previous_model)
{
    const SavedModel& saved = SavedModel::get("micro");
    for (const char* suffix : { ".yml", ".yml.gz" })
    {
        TempDir dir;
        const std::string target = dir.path + "/model" + suffix;
        saved.model->save(target);
        const std::string before = readFileBytes(target);
        ASSERT_GT(before.size(), 2048u);

        rlimit old;
        ASSERT_EQ(0, getrlimit(RLIMIT_FSIZE, &old));
        rlimit small = old;
        small.rlim_cur = 1024;  // bytes a process may write to one file
        void (*oldHandler)(int) = std::signal(SIGXFSZ, SIG_IGN);
        ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &small));
        bool thrown = false;
        std::string message;
        try
        {
            saved.model->save(target);
        }
        catch (const cv::Exception& e)
        {
            thrown = true;
            message = e.what();
        }
        setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, oldHandler);

        EXPECT_TRUE(thrown) << suffix;
        EXPECT_NE(std::string::npos, message.find("cannot write")) << message;
        EXPECT_EQ(before, readFileBytes(target)) << suffix << ": the previous model was changed";
        EXPECT_EQ(std::vector<String>{ target }, filesIn(dir.path)) << suffix;
        EXPECT_EQ(saved.scores, scoresOf(*DMAD::load(target), saved.images)) << suffix;
    }
}
#endif

//! Saves racing on one path while others load it: every load sees one whole model.
TEST(DMAD_ModelFiles, concurrent_saves_and_loads_see_whole_files)
{
    const SavedModel& saved = SavedModel::get("micro");
    TempDir dir;
    const std::string target = dir.path + "/model.yml.gz";
    saved.model->save(target);
    std::atomic<int> failures{ 0 }, loads{ 0 };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 15; i++)
            {
                try
                {
                    if (t < 2)
                        saved.model->save(target);
                    else if (scoresOf(*DMAD::load(target), saved.images) == saved.scores)
                        loads++;
                    else
                        failures++;
                }
                catch (const cv::Exception& e)
                {
                    failures++;
                    std::cerr << e.what() << std::endl;
                }
            }
        });
    for (std::thread& th : threads)
        th.join();
    EXPECT_EQ(0, failures.load());
    EXPECT_EQ(30, loads.load());
    EXPECT_EQ(std::vector<String>{ target }, filesIn(dir.path));
}

TEST(DMAD_ModelFiles, every_format_round_trips_with_its_checksum)
{
    const SavedModel& saved = SavedModel::get("micro");
    TempDir dir;
    for (const char* suffix :
         { ".yml", ".yaml", ".xml", ".json", ".yml.gz", ".xml.gz", ".json.gz" })
    {
        const std::string path = dir.path + "/model" + suffix;
        saved.model->save(path);
        EXPECT_EQ(saved.scores, scoresOf(*DMAD::load(path), saved.images)) << suffix;
        // every part stays loadable on its own
        EXPECT_EQ(saved.model->getMemoryBanks()->getNormalBank()->size(),
                  MemoryBank::load(path, "normal_bank")->size()) << suffix;
        EXPECT_EQ(saved.hidden, ScoringHead::load(path, "scoring_head")->hiddenDims()) << suffix;
        EXPECT_EQ(saved.dims, FeatureExtractor::load(path, "feature_extractor")->featureDims());
        if (std::string(suffix).find(".gz") == std::string::npos)
        {
            const std::string text = readFileBytes(path);
            EXPECT_EQ(withChecksum(text), text) << suffix << ": the checksum line as documented";
        }
    }
}

TEST(DMAD_ModelFiles, files_without_checksum_need_an_explicit_opt_in)
{
    const SavedModel& saved = SavedModel::get("micro");
    TempDir dir;
    const std::string path = dir.path + "/old.yml";
    std::string text = readFileBytes(saved.yml);
    text.resize(checksumLineStart(text));
    writeFileBytes(path, text);
    expectRefused(path, { "does not end with a dmad-checksum line", "OPENCV_DMAD_ALLOW_UNCHECKED_FILES" },
                  "no checksum line");
    const char* old = std::getenv("OPENCV_DMAD_ALLOW_UNCHECKED_FILES");
    const std::string oldValue = old ? old : "";
    setEnvironment("OPENCV_DMAD_ALLOW_UNCHECKED_FILES", "1");
    Ptr<DMAD> loaded;
    EXPECT_NO_THROW(loaded = DMAD::load(path));
    setEnvironment("OPENCV_DMAD_ALLOW_UNCHECKED_FILES", old ? oldValue.c_str() : nullptr);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(saved.scores, scoresOf(*loaded, saved.images));
}

TEST(DMAD_ModelFiles, reads_are_bounded_to_regular_files_of_a_limited_size)
{
    TempDir dir;
    EXPECT_CV_ERROR(DMAD::load(dir.path), "model file '" + dir.path + "' is not a regular file");
#ifdef __unix__
    EXPECT_CV_ERROR(DMAD::load("/dev/zero"), "model file '/dev/zero' is not a regular file");
#endif
    // sparse files: the size is refused before a byte is read
    const std::string huge = dir.path + "/huge.yml";
    writeFileBytes(huge, "%YAML:1.0\n");
    std::filesystem::resize_file(huge, (std::uintmax_t(1) << 30) + 1);
    EXPECT_CV_ERROR(DMAD::load(huge), "has 1024 MB, more than the limit of 1024 MB");
    const std::string image = dir.path + "/huge.png";
    writeFileBytes(image, "");
    std::filesystem::resize_file(image, (std::uintmax_t)cv::dmad::kMaxImageFileBytes + 1);
    EXPECT_CV_ERROR(cv::dmad::readImage(image), "image '" + image + "' has 256 MB, more than the limit of 256 MB");
    EXPECT_CV_ERROR(cv::dmad::readImage(dir.path), "image '" + dir.path + "' is not a regular file");
    EXPECT_CV_ERROR(cv::dmad::readImage(dir.path + "/none.png"), "cannot open image");
    writeFileBytes(dir.path + "/junk.png", "not a png");
    EXPECT_CV_ERROR(cv::dmad::readImage(dir.path + "/junk.png"), "cannot decode image");
    // a readable image comes back as stored
    const Mat gray16(5, 7, CV_16U, Scalar(40000));
    ASSERT_TRUE(imwrite(dir.path + "/ok.png", gray16));
    const Mat back = cv::dmad::readImage(dir.path + "/ok.png");
    EXPECT_EQ(CV_16UC1, back.type());
    EXPECT_EQ(0, cv::norm(gray16, back, NORM_INF));
}

// ---------------------------------------------------------------------------------------------
// Damaged, foreign and mismatched files, on the micro and the tiny model

typedef testing::TestWithParam<std::string> DMAD_ModelFileDamage;

TEST_P(DMAD_ModelFileDamage, truncated_files_are_refused)
{
    DMAD_SAVED_MODEL(saved, GetParam());
    TempDir dir;
    for (const std::string& source : { saved.yml, saved.gz })
    {
        const std::string bytes = readFileBytes(source);
        const size_t n = bytes.size();
        std::vector<size_t> keeps = { 0, 1, 10, 100, n / 2, n - 60, n - 40, n - 2, n - 1 };
        for (int i = 1; i < 40; i++)
            keeps.push_back(n * i / 40);
        const std::string path = dir.path + (source == saved.gz ? "/cut.yml.gz" : "/cut.yml");
        for (size_t keep : keeps)
        {
            writeFileBytes(path, bytes.substr(0, keep));
            expectRefused(path, { "damaged" }, cv::format("%s cut to %zu of %zu bytes",
                                                          source.c_str(), keep, n));
        }
    }
}

TEST_P(DMAD_ModelFileDamage, bit_flips_are_refused)
{
    DMAD_SAVED_MODEL(saved, GetParam());
    TempDir dir;
    RNG rng(17);
    for (const std::string& source : { saved.yml, saved.gz })
    {
        const std::string bytes = readFileBytes(source);
        const std::string path = dir.path + (source == saved.gz ? "/flip.yml.gz" : "/flip.yml");
        // the gzip header's first 10 bytes hold a time stamp and flags zlib need not check
        const size_t first = source == saved.gz ? 10 : 0;
        for (int i = 0; i < 64; i++)
        {
            std::string flipped = bytes;
            const size_t at = first + (size_t)rng.uniform(0, (int)(bytes.size() - first));
            flipped[at] = (char)(flipped[at] ^ (1 << rng.uniform(0, 8)));
            writeFileBytes(path, flipped);
            const std::string what = cv::format("%s, bit flipped at byte %zu", source.c_str(), at);
            if (source == saved.gz && inflated(path) == inflated(saved.gz))
            {
                // a deflate bit that does not change the inflated text (an unused symbol's code
                // length, a padding bit): not damage, and the model loads as saved
                EXPECT_EQ(saved.scores, scoresOf(*DMAD::load(path), saved.images)) << what;
                continue;
            }
            expectRefused(path, { "damaged" }, what);
        }
    }
    // a BASE64 character of a bank's features changed into another valid one: the file still parses
    // and would load silently wrong weights without the checksum
    std::string text = readFileBytes(saved.yml);
    const size_t block = text.find("data: !!binary |\n", text.find("\nnormal_bank:\n"));
    ASSERT_NE(std::string::npos, block);
    const size_t at = text.find_first_not_of(' ', block + 17) + 40;
    text[at] = text[at] == 'A' ? 'B' : 'A';
    const std::string path = dir.path + "/base64.yml";
    writeFileBytes(path, text);
    expectRefused(path, { "damaged", "CRC-32" }, "BASE64 character changed");
}

TEST_P(DMAD_ModelFileDamage, newer_format_version_is_refused)
{
    DMAD_SAVED_MODEL(saved, GetParam());
    TempDir dir;
    const std::string text = readFileBytes(saved.yml);
    const std::string path = dir.path + "/newer.yml";
    for (const char* node :
         { "opencv_dmad_DMAD", "feature_extractor", "normal_bank", "scoring_head" })
    {
        const std::string edited = editInNode(text, node, "dmad_format_version: 1",
                                              "dmad_format_version: 2");
        ASSERT_FALSE(edited.empty()) << node;
        writeFileBytes(path, withChecksum(edited));
        expectRefused(path, { "newer dmad (format version 2; this build reads up to 1)" }, node);
    }
}

TEST_P(DMAD_ModelFileDamage, files_of_another_class_are_refused)
{
    DMAD_SAVED_MODEL(saved, GetParam());
    TempDir dir;
    // a MemoryBank file given to DMAD::load
    const std::string bankFile = dir.path + "/bank.yml";
    saved.model->getMemoryBanks()->getNormalBank()->save(bankFile);
    expectRefused(bankFile, { "has no node 'opencv_dmad_DMAD'" }, "a MemoryBank file");
    // a DMAD file given to the loaders of its parts without a node name
    EXPECT_CV_ERROR(MemoryBank::load(saved.yml), "holds 'DMAD', expected 'MemoryBank'");
    EXPECT_CV_ERROR(MemoryBank::load(saved.yml), saved.yml);
    EXPECT_CV_ERROR(ScoringHead::load(saved.yml, "normal_bank"),
                    "holds 'MemoryBank', expected 'ScoringHead'");
    EXPECT_CV_ERROR(ScoringHead::load(saved.yml, "normal_bank"),
                    "node 'normal_bank' in '" + saved.yml);
    EXPECT_CV_ERROR(KnowledgeEnhancement::load(saved.yml, "no_such_node"),
                    "has no node 'no_such_node'");

    const std::string text = readFileBytes(saved.yml);
    const std::string path = dir.path + "/other.yml";
    // a node whose class key names another class
    writeFileBytes(path, withChecksum(editInNode(text, "feature_extractor",
                                                 "dmad_class: FeatureExtractor",
                                                 "dmad_class: MemoryBank")));
    expectRefused(path,
                  { "feature_extractor node holds 'MemoryBank', expected 'FeatureExtractor'" },
                  "class key changed");
    // a renamed node
    std::string renamed = text;
    renamed.replace(renamed.find("\nfeature_extractor:\n"), 20, "\nfeature_extracted:\n");
    writeFileBytes(path, withChecksum(renamed));
    expectRefused(path, { "feature_extractor", "no FeatureExtractor node" }, "node renamed");
    // a node without the version key, i.e. not written by dmad
    writeFileBytes(path, withChecksum(editInNode(text, "scoring_head", "dmad_format_version: 1",
                                                 "format_version: 1")));
    expectRefused(path, { "missing 'dmad_format_version'", "scoring_head" }, "version key missing");
    // a YAML file of someone else
    writeFileBytes(path, withChecksum("%YAML:1.0\n---\ncamera_matrix: [ 1, 2, 3 ]\n"));
    expectRefused(path, { "has no node 'opencv_dmad_DMAD'" }, "a foreign YAML file");
    // not YAML at all
    writeFileBytes(path,
                   withChecksum(std::string("\x89PNG\r\n\x1a\n", 8) + std::string(100, '\x01')));
    expectRefused(path, { "not a readable model file" }, "binary data");
}

TEST_P(DMAD_ModelFileDamage, shape_mismatches_are_refused)
{
    DMAD_SAVED_MODEL(saved, GetParam());
    TempDir dir;
    const std::string text = readFileBytes(saved.yml), path = dir.path + "/shape.yml";
    const int D = saved.dims, H = saved.hidden;
    const int headInputs = saved.model->getScoringHead()->inputDims();  // 3 D (+ bank distances)
    const int nNormal = saved.model->getMemoryBanks()->getNormalBank()->size();
    const Size input = saved.model->getParams().backbone.inputSize;
    struct Case
    {
        std::string node, from, to;
        std::vector<std::string> fragments;
    };
    const std::vector<Case> cases = {
        { "normal_bank", cv::format("dims: %d", D), cv::format("dims: %d", D + 1),
          { cv::format("matrix 'features' is %dx%d, but size x dims is %dx%d", nNormal, D,
                       nNormal, D + 1),
            "normal_bank" } },
        { "normal_bank", cv::format("      rows: %d", nNormal),
          cv::format("      rows: %d", nNormal - 1),
          { cv::format("payload 'features' declares %dx%d values of type 'h' (%d bytes) but holds %d bytes",
                       nNormal - 1, D, (nNormal - 1) * D * 2, nNormal * D * 2),
            "normal_bank" } },
        { "abnormal_bank", "cols: ", "cols: 1",  // e.g. 8 -> 18: more values declared than present
          { "payload 'features' declares", "abnormal_bank" } },
        { "scoring_head", cv::format("hidden_dims: %d", H), cv::format("hidden_dims: %d", H + 1),
          { cv::format("'hidden_weight' is %dx%d (type 5), expected %dx%d CV_32F", H, headInputs,
                       H + 1, headInputs),
            "scoring_head" } },
        { "scoring_head", "hidden_dims: ", "hidden_dims: 6553",
          { "invalid dims", "scoring_head" } },
        { "knowledge_enhancement", cv::format("feature_dims: %d", D), "feature_dims: 65536",
          { cv::format("'value_weight' is %dx%d (type 5), expected 65536x65536", D, D),
            "knowledge_enhancement" } },
        { "feature_extractor", cv::format("feature_dims: %d", D),
          cv::format("feature_dims: %d", D + 8),
          { cv::format("the memory bank has %d dims, the backbone gives %d", D, D + 8) } },
        { "opencv_dmad_DMAD", "grid: [ 16, 16 ]", "grid: [ 16, 8 ]",
          { "the backbone's grid differs from the one the model was trained on" } },
        { "feature_extractor", cv::format("input_size: [ %d, %d ]", input.width, input.height),
          "input_size: [ 5000, 5000 ]", { "unsupported input size 5000x5000" } },
    };
    for (const Case& c : cases)
    {
        const std::string edited = editInNode(text, c.node, c.from, c.to);
        ASSERT_FALSE(edited.empty()) << c.node << ": " << c.from;
        writeFileBytes(path, withChecksum(edited));
        expectRefused(path, c.fragments, c.node + ": " + c.from + " -> " + c.to);
    }
}

INSTANTIATE_TEST_CASE_P(/**/, DMAD_ModelFileDamage, testing::Values("micro", "tiny"));

// ---------------------------------------------------------------------------------------------
// Fuzzing

/** Aborts the process, naming the case, when a case runs longer than `limitSeconds`: a hang must
    fail the test run, not stall CI until its timeout. */
class Watchdog
{
public:
    explicit Watchdog(double limitSeconds) : limit_(limitSeconds), thread_([this] { run(); }) {}
    ~Watchdog()
    {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            done_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }
    void startCase(const std::string& description)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        description_ = description;
        started_ = std::chrono::steady_clock::now();
    }

private:
    void run()
    {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!done_)
        {
            wake_.wait_for(lock, std::chrono::milliseconds(200));
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
            if (!done_ && !description_.empty() && seconds > limit_)
            {
                std::cerr << "[ FUZZ ] case hangs (" << seconds << " s): " << description_
                          << std::endl;
                std::abort();
            }
        }
    }

    const double limit_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool done_ = false;
    std::string description_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::thread thread_;
};

/** A number of the plain-text part replaced by an extreme one, then the checksum re-sealed: what a
    buggy writer could produce. It reaches the validators behind the checksum. Only numbers are
    changed: OpenCV 4.6's own parser can loop forever on a damaged BASE64 block, which the checksum
    keeps away from damaged files but not from a file written wrong in the first place. */
std::string resealedNumberMutation(const std::string& text, RNG& rng)
{
    static const char* const values[] = { "0", "-1", "1", "2", "3", "7", "255", "65536", "65537",
                                          "262145", "2147483647", "-2147483648", "1e308", "-1e308",
                                          ".nan", ".inf", "-.inf", "0.5", "1e-300" };
    const int nValues = (int)(sizeof(values) / sizeof(values[0]));
    const size_t end = checksumLineStart(text);
    for (int tries = 0; tries < 10000; tries++)
    {
        const size_t at = (size_t)rng.uniform(0, (int)end);
        const size_t lineStart = text.rfind('\n', at) + 1, lineEnd = text.find('\n', at);
        const size_t colon = text.find(": ", lineStart);
        if (colon == std::string::npos || colon >= lineEnd)
            continue;
        const char c = text[colon + 2];
        if (!(isdigit((unsigned char)c) || c == '-' || c == '['))
            continue;
        const char* a = values[rng.uniform(0, nValues)];
        const std::string value =
            c == '[' ? cv::format("[ %s, %s ]", a, values[rng.uniform(0, nValues)]) : String(a);
        return withChecksum(text.substr(0, colon + 2) + value + text.substr(lineEnd));
    }
    return withChecksum(text);
}

TEST(DMAD_ModelFileFuzz, damaged_files_never_crash_or_hang)
{
    const int maxCases = 3000;
    const double maxSeconds = 40;
    const SavedModel& saved = SavedModel::get("micro");
    TempDir dir;
    const std::string sources[2] = { readFileBytes(saved.yml), readFileBytes(saved.gz) };
    const std::string paths[2] = { dir.path + "/fuzz.yml", dir.path + "/fuzz.yml.gz" };
    RNG rng(20240611);
    Watchdog watchdog(20);
    enum { TRUNCATE, FLIP_BITS, MUTATE_BYTES, RESEALED_TRUNCATE, RESEALED_NUMBER, MODES };
    int refused[MODES] = {}, loaded[MODES] = {}, predictRefused = 0, cases = 0;
    const int64 start = getTickCount();
    double seconds = 0;
    for (; cases < maxCases && seconds < maxSeconds; cases++)
    {
        const int mode = rng.uniform(0, MODES);
        const int which = mode >= RESEALED_TRUNCATE ? 0 : rng.uniform(0, 2);
        std::string bytes = sources[which];
        if (mode == TRUNCATE || mode == RESEALED_TRUNCATE)
            bytes.resize((size_t)rng.uniform(0, (int)bytes.size()));
        if (mode == RESEALED_TRUNCATE)
            bytes = withChecksum(bytes);
        else if (mode == FLIP_BITS || mode == MUTATE_BYTES)
        {
            const int n = rng.uniform(1, 9);
            for (int i = 0; i < n; i++)
            {
                const size_t at = (size_t)rng.uniform(0, (int)bytes.size());
                bytes[at] = mode == FLIP_BITS ? (char)(bytes[at] ^ (1 << rng.uniform(0, 8)))
                                              : (char)(bytes[at] + rng.uniform(1, 256));
            }
        }
        else if (mode == RESEALED_NUMBER)
            bytes = resealedNumberMutation(bytes, rng);
        writeFileBytes(paths[which], bytes);
        watchdog.startCase(cv::format("case %d, mode %d, %s", cases, mode, paths[which].c_str()));
        Ptr<DMAD> model;
        try
        {
            model = DMAD::load(paths[which]);
        }
        catch (const cv::Exception& e)
        {
            refused[mode]++;
            EXPECT_NE(std::string::npos, std::string(e.what()).find(paths[which])) << e.what();
        }
        if (model)
        {
            loaded[mode]++;
            // raw damage to the text never loads (the checksum); damage to a .gz that loads touched
            // only what zlib ignores (the time stamp), and a re-sealed truncation that loads cut
            // the checksum line only: both must then give the original scores
            if (mode <= MUTATE_BYTES && which == 0)
                EXPECT_EQ(sources[0], bytes) << "case " << cases << ": a damaged file loaded";
            try
            {
                const std::vector<float> s = scoresOf(*model, saved.images);
                float score;
                Mat map;
                model->predict(saved.images[0], score, map);
                EXPECT_TRUE(cv::checkRange(map)) << "case " << cases;
                for (float v : s)
                    EXPECT_TRUE(std::isfinite(v)) << "case " << cases;
                if (mode != RESEALED_NUMBER)
                    EXPECT_EQ(saved.scores, s) << "case " << cases << ": loaded, but scores differ";
            }
            catch (const cv::Exception&)
            {
                predictRefused++;
            }
        }
        seconds = (double)(getTickCount() - start) / getTickFrequency();
        if (HasFailure())
            break;
    }
    watchdog.startCase(std::string());
    int allRefused = 0, allLoaded = 0;
    for (int m = 0; m < MODES; m++)
    {
        allRefused += refused[m];
        allLoaded += loaded[m];
    }
    std::cout << cv::format("[ FUZZ     ] %d cases in %.1f s (limits %d cases, %.0f s), seed "
                            "20240611: %d refused, %d loaded (%d refused to predict)",
                            cases, seconds, maxCases, maxSeconds, allRefused, allLoaded,
                            predictRefused)
              << std::endl;
    std::cout << cv::format("[ FUZZ     ] refused/loaded per mode: truncated %d/%d, bit flips "
                            "%d/%d, byte mutations %d/%d, resealed truncations %d/%d, resealed "
                            "numbers %d/%d",
                            refused[0], loaded[0], refused[1], loaded[1], refused[2], loaded[2],
                            refused[3], loaded[3], refused[4], loaded[4])
              << std::endl;
    EXPECT_GE(cases, 500) << "too few cases in the time limit to mean anything";
}

}} // namespace
