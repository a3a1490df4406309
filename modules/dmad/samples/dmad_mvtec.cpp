// Trains one DMAD model on every class of an MVTec-AD-layout dataset, evaluates it per class and
// writes results.json, results.md and heatmaps.
//
//   dmad_mvtec --data=<root> --out=<dir> [--classes=a,b] [--backbone=<preset or file>] [--model=<file>]
//              [--anomalies=<k per class, 0 = unsupervised>] [--scorer=dmad|patchcore] [--seed=<n>]
//              [--save=<model file>] [--config=cpu|paper] [--epochs=<n>] [--heatmaps=<per type>]

#include <opencv2/core.hpp>
#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/dmad.hpp>
#include <opencv2/dmad_eval.hpp>

#include "sample_options.hpp"
#include "sample_utils.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

using namespace cv;

namespace {

std::vector<String> splitList(const String& s)
{
    std::vector<String> out;
    std::stringstream ss(s);
    String item;
    while (std::getline(ss, item, ','))
        if (!item.empty())
            out.push_back(item);
    return out;
}

/** The classes of every root (comma-separated --data) as one dataset. VisA is recognised by its
    split file; anything else is read as MVTec-AD layout. With several roots, --classes picks
    among the classes of all of them. */
dmad::DatasetSplit readDatasets(const std::vector<String>& roots, const std::vector<String>& wanted)
{
    if (roots.empty())
        CV_Error(Error::StsBadArg, "--data names no dataset folder");
    std::vector<dmad::DatasetSplit> parts;
    std::set<String> found;
    for (const String& root : roots)
    {
        const bool visa = utils::fs::exists(root + "/split_csv/1cls.csv");
        std::vector<String> classes = wanted;
        if (roots.size() > 1 && !wanted.empty())
        {
            classes.clear();
            for (const String& c : wanted)
                if (visa || utils::fs::isDirectory(root + "/" + c))
                    classes.push_back(c);
            if (classes.empty())
                continue;
        }
        parts.push_back(visa ? dmad::readVisADataset(root, classes) : dmad::readMVTecDataset(root, classes));
        found.insert(parts.back().classes.begin(), parts.back().classes.end());
    }
    for (const String& c : wanted)
        if (!found.count(c))
            CV_Error(Error::StsObjectNotFound, "no dataset folder of --data holds the class '" + c + "'");
    return parts.size() == 1 ? parts[0] : dmad::mergeDatasets(parts);
}

String fileStem(const String& path)
{
    const size_t slash = path.find_last_of("/\\");
    String name = slash == String::npos ? path : path.substr(slash + 1);
    const size_t dot = name.find_last_of('.');
    return dot == String::npos ? name : name.substr(0, dot);
}

bool endsWith(const String& s, const String& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

//! "N" (N x N) or "WxH" tiles, each 1..8; Size() where the text is neither.
Size parseTiles(const std::string& text)
{
    int w = 0, h = 0;
    char x = 0, rest = 0;
    const int n = std::sscanf(text.c_str(), "%d%c%d%c", &w, &x, &h, &rest);
    if (n == 1)
        h = w;
    else if (n != 3 || x != 'x')
        return Size();
    return w >= 1 && w <= 8 && h >= 1 && h <= 8 ? Size(w, h) : Size();
}

//! A preset name, a saved FeatureExtractor, or a network file whose name contains a preset's name.
dmad::FeatureExtractor::Params backboneParams(const String& backbone, const String& model)
{
    if (endsWith(backbone, ".yml") || endsWith(backbone, ".yaml") || endsWith(backbone, ".xml") ||
        endsWith(backbone, ".json") || endsWith(backbone, ".gz"))
        return dmad::FeatureExtractor::load(backbone)->getParams();
    for (const String& preset : dmad::FeatureExtractor::presetNames())
        if (backbone == preset)
            return dmad::FeatureExtractor::preset(preset, model);
    if (utils::fs::exists(backbone))
    {
        const String name = fileStem(backbone);
        String best;
        for (const String& preset : dmad::FeatureExtractor::presetNames())
        {
            String token = preset;
            for (char& c : token)
                c = c == '-' ? '_' : c;
            String lowered = name;
            for (char& c : lowered)
                c = c == '-' ? '_' : c;
            if (lowered.find(token) != String::npos && token.size() > best.size())
                best = preset;
        }
        if (!best.empty())
            return dmad::FeatureExtractor::preset(best, backbone);
        CV_Error(Error::StsBadArg, "cannot tell the preset of backbone file '" + backbone +
                                       "': name the preset with --backbone and the file with --model");
    }
    return dmad::FeatureExtractor::preset(backbone, model);  // throws for an unknown preset
}

/** Where bare backbone file names are found when $OPENCV_DMAD_BACKBONE_PATH (or the deprecated
    $DMAD_BACKBONE_PATH) is unset: build/backbones, ../shared/models. */
void defaultBackbonePath(const char* argv0)
{
    if (std::getenv("OPENCV_DMAD_BACKBONE_PATH") || std::getenv("DMAD_BACKBONE_PATH"))
        return;
    String exe = argv0;
    const size_t slash = exe.find_last_of('/');
    const String dir = slash == String::npos ? String(".") : exe.substr(0, slash);
    const String path = dir + "/../backbones:" + dir + "/../../../shared/models:" + dir + "/../../shared/models";
    setenv("OPENCV_DMAD_BACKBONE_PATH", path.c_str(), 0);
}

String jsonNumber(double v)
{
    if (!std::isfinite(v))
        return "null";
    return cv::format("%.6g", v);
}

String jsonString(const String& s)
{
    String out = "\"";
    for (char c : s)
    {
        if (c == '"' || c == '\\')
            out += '\\';
        if (c == '\n')
        {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + "\"";
}

String metricsJson(const dmad::ClassMetrics& m, const String& indent)
{
    return "{\n" + indent + "  \"image_auroc\": " + jsonNumber(m.imageAUROC) + ",\n" +
           indent + "  \"image_ap\": " + jsonNumber(m.imageAP) + ",\n" +
           indent + "  \"image_f1\": " + jsonNumber(m.imageF1) + ",\n" +
           indent + "  \"pixel_auroc\": " + jsonNumber(m.pixelAUROC) + ",\n" +
           indent + "  \"pixel_ap\": " + jsonNumber(m.pixelAP) + ",\n" +
           indent + "  \"pro\": " + jsonNumber(m.pro) + ",\n" +
           indent + "  \"n_train\": " + std::to_string(m.nTrain) + ",\n" +
           indent + "  \"n_test\": " + std::to_string(m.nTest) + "\n" + indent + "}";
}

String percent(double v)
{
    return std::isfinite(v) ? cv::format("%.1f", 100 * v) : String("n/a");
}

String markdownTable(const std::vector<dmad::ClassMetrics>& rows)
{
    String t = "| class | image AUROC | image AP | image F1 | pixel AUROC | pixel AP | AU-PRO | train | test |\n"
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for (const dmad::ClassMetrics& m : rows)
        t += "| " + m.name + " | " + percent(m.imageAUROC) + " | " + percent(m.imageAP) + " | " + percent(m.imageF1) +
             " | " + percent(m.pixelAUROC) + " | " + percent(m.pixelAP) + " | " + percent(m.pro) + " | " +
             std::to_string(m.nTrain) + " | " + std::to_string(m.nTest) + " |\n";
    return t;
}

//! Image | image with the ground-truth outline | heatmap overlay, side by side, 256 px high.
Mat heatmapPanel(const Mat& image, const Mat& mask, const Mat& map, double low, double high)
{
    const Mat bgr = dmad_samples::displayBGR(image);
    const Size size(std::max(1, (int)std::lround(256.0 * bgr.cols / bgr.rows)), 256);
    Mat a, outlined, m8, heat, overlay;
    resize(bgr, a, size, 0, 0, INTER_AREA);
    outlined = a.clone();
    if (!mask.empty())
    {
        Mat small;
        resize(mask, small, size, 0, 0, INTER_NEAREST);
        std::vector<std::vector<Point>> contours;
        findContours(small, contours, RETR_EXTERNAL, CHAIN_APPROX_NONE);
        drawContours(outlined, contours, -1, Scalar(0, 255, 0), 1);
    }
    Mat scaled;
    resize(map, scaled, size, 0, 0, INTER_LINEAR);
    scaled.convertTo(m8, CV_8U, 255.0 / std::max(1e-12, high - low), -255.0 * low / std::max(1e-12, high - low));
    applyColorMap(m8, heat, COLORMAP_JET);
    addWeighted(a, 0.5, heat, 0.5, 0, overlay);
    Mat panel;
    hconcat(std::vector<Mat>{ a, outlined, overlay }, panel);
    return panel;
}

struct Evaluation
{
    std::vector<dmad::ClassMetrics> classes;
    dmad::ClassMetrics mean;
    std::vector<const dmad::DatasetSample*> samples;  //!< every test image, in order
    std::vector<float> scores;
    bool calibrated = false;           //!< whether the model has calibrated thresholds
    // per class, as classes:
    std::vector<double> threshold;     //!< the calibrated threshold of the class
    std::vector<double> f1AtThreshold; //!< image F1 of inspect()'s verdicts (each image's identified class)
    std::vector<double> identified;    //!< fraction of the test images inspect() gave the class (NaN: one class)
};

//! Image F1 (anomalous as positive) of the verdicts.
double f1Of(const std::vector<bool>& verdicts, const std::vector<int>& labels)
{
    double tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < verdicts.size(); i++)
    {
        const bool flagged = verdicts[i];
        tp += flagged && labels[i];
        fp += flagged && !labels[i];
        fn += !flagged && labels[i];
    }
    return tp > 0 ? 2 * tp / (2 * tp + fp + fn) : 0.0;
}

double meanOf(const std::vector<double>& v)
{
    double sum = 0;
    for (double x : v)
        sum += x;
    return v.empty() ? NAN : sum / (double)v.size();
}

/** "calibration": per class, the stored threshold, the test-set image F1 of the model's own
    verdicts (inspect(): the threshold of the class it identifies) against the best F1 any single
    threshold reaches on the class's test set (image_f1), and how often it identified the class. */
String calibrationJson(const Evaluation& ev, const String& indent)
{
    if (!ev.calibrated)
        return "null";
    String j = "{\n" + indent + "  \"classes\": {\n";
    std::vector<double> best;
    for (size_t i = 0; i < ev.classes.size(); i++)
    {
        best.push_back(ev.classes[i].imageF1);
        j += indent + "    " + jsonString(ev.classes[i].name) + ": {\"threshold\": " + jsonNumber(ev.threshold[i]) +
             ", \"f1_at_threshold\": " + jsonNumber(ev.f1AtThreshold[i]) + ", \"best_f1\": " +
             jsonNumber(ev.classes[i].imageF1) + ", \"class_identified\": " + jsonNumber(ev.identified[i]) + "}" +
             (i + 1 < ev.classes.size() ? ",\n" : "\n");
    }
    return j + indent + "  },\n" + indent + "  \"mean_f1_at_threshold\": " + jsonNumber(meanOf(ev.f1AtThreshold)) +
           ",\n" + indent + "  \"mean_best_f1\": " + jsonNumber(meanOf(best)) + ",\n" + indent +
           "  \"mean_class_identified\": " + jsonNumber(meanOf(ev.identified)) + "\n" + indent + "}";
}

//! The test samples of a class, kept alive for the whole run (Evaluation points into them).
const std::vector<dmad::DatasetSample>& testOf(const dmad::DatasetSplit& split, const String& cls)
{
    static std::map<String, std::vector<dmad::DatasetSample>> cache;
    if (!cache.count(cls))
        cache[cls] = split.testOf(cls);
    return cache[cls];
}

Evaluation evaluate(const dmad::DMAD& model, const dmad::DatasetSplit& split, const std::map<String, int>& nTrain,
                    const String& heatmapDir, int heatmapsPerType, const String& label)
{
    Evaluation ev;
    for (const String& cls : split.classes)
    {
        const std::vector<dmad::DatasetSample>& test = testOf(split, cls);
        if (test.empty())
            continue;
        const bool masks = split.hasMasks(cls);
        std::vector<float> scores;
        std::vector<int> labels;
        std::vector<bool> verdicts;
        std::vector<Mat> maps, gts, fullMaps;
        int done = 0, identified = 0;
        for (const dmad::DatasetSample& s : test)
        {
            const Mat image = dmad::readImage(s.imagePath);
            Mat map;
            const dmad::DMAD::Inspection r = model.inspect(image, map);
            const float score = r.score;
            verdicts.push_back(r.anomalous);
            identified += r.classId == split.classIndex(cls);
            scores.push_back(score);
            labels.push_back(s.anomalous ? 1 : 0);
            ev.samples.push_back(&s);
            ev.scores.push_back(score);
            fullMaps.push_back(map);
            if (masks)
            {
                // pixel metrics at 256 x 256, as the DMAD and SimpleNet evaluations
                Mat small, gt;
                resize(map, small, Size(256, 256), 0, 0, INTER_LINEAR);
                if (s.maskPath.empty())
                    dmad::readMask(s, Size(256, 256), gt);
                else
                {
                    // a mask of another size is an error in the data, not something to stretch
                    Mat full;
                    dmad::readMask(s, Size(), full);
                    if (full.size() != image.size())
                        CV_Error(Error::StsBadSize, cv::format("the mask '%s' is %dx%d, its image %dx%d",
                                                               s.maskPath.c_str(), full.cols, full.rows,
                                                               image.cols, image.rows));
                    resize(full, gt, Size(256, 256), 0, 0, INTER_NEAREST);
                }
                maps.push_back(small);
                gts.push_back(gt);
            }
            // rewritten in place on a terminal, one line per step in a log file
            if (++done % 25 == 0 || done == (int)test.size())
                std::cerr << (dmad_samples::stderrIsTerminal() ? "\r" : "") << label << " " << cls << ": " << done << "/"
                          << test.size() << " test images" << (dmad_samples::stderrIsTerminal() ? "" : "\n") << std::flush;
        }
        if (dmad_samples::stderrIsTerminal())
            std::cerr << std::endl;
        dmad::ClassMetrics m = masks ? dmad::computeClassMetrics(cls, scores, labels, maps, gts)
                                     : dmad::computeClassMetrics(cls, scores, labels);
        m.nTrain = nTrain.count(cls) ? nTrain.at(cls) : 0;
        ev.classes.push_back(m);
        ev.calibrated = std::isfinite(model.getDecisionThreshold());
        ev.threshold.push_back(model.getDecisionThreshold(split.classIndex(cls)));
        ev.f1AtThreshold.push_back(ev.calibrated ? f1Of(verdicts, labels) : NAN);
        ev.identified.push_back(split.classes.size() > 1 ? identified / (double)test.size() : NAN);

        if (!heatmapDir.empty() && heatmapsPerType != 0)
        {
            // one colour scale per class: the range of its maps
            double low = 1e30, high = -1e30;
            for (const Mat& map : fullMaps)
            {
                double a, b;
                minMaxLoc(map, &a, &b);
                low = std::min(low, a);
                high = std::max(high, b);
            }
            const String dir = heatmapDir + "/" + dmad_samples::checkedPathComponent(cls, "class");
            if (!utils::fs::createDirectories(dir))
                CV_Error(Error::StsError, "cannot create the heatmap folder '" + dir + "'");
            std::map<String, int> written;
            dmad_samples::UniqueNames names;
            for (size_t i = 0; i < test.size(); i++)
            {
                const dmad::DatasetSample& s = test[i];
                if (heatmapsPerType > 0 && written[s.defectType] >= heatmapsPerType)
                    continue;
                written[s.defectType]++;
                Mat gt;
                if (s.anomalous && !s.maskPath.empty())
                    dmad::readMask(s, fullMaps[i].size(), gt);
                const Mat image = dmad::readImage(s.imagePath);
                const String name = dmad_samples::checkedPathComponent(s.defectType, "defect type") + "_" +
                                    fileStem(s.imagePath);
                dmad_samples::writeImageFile(dir + "/" + names.take(name, ".png"),
                                             heatmapPanel(image, gt, fullMaps[i], low, high));
            }
        }
    }
    ev.mean = dmad::meanMetrics(ev.classes);
    return ev;
}

} // namespace

int main(int argc, char** argv)
{
    dmad_samples::showProgressOnStderr();
    dmad_samples::Options options("dmad_mvtec",
                                  "Train one DMAD model on all classes of an MVTec-AD-layout dataset and evaluate it");
    using dmad_samples::finiteIn;
    using dmad_samples::finiteInOrKeep;
    std::string data, out, classesArg, backbone = "mobilenet_v2", model, scorerName = "dmad", savePath, loadPath;
    std::string config = "cpu";
    int anomalies = 0, seed = 0, epochs = 0, heatmaps = 10, threads = -1, neighbours = 0, batch = 0, hidden = 0;
    int recipe = -1, pseudo = -1, distances = -1, calibrationImages = -1, balanceClasses = -1, heads = 0,
        syntheticUntilAnnotated = -1;
    double lr = 0, noise = -1, coreset = 0, abnormalBank = -1, syntheticWeight = -1, calibration = -1, validation = -1;
    double headWeight = -1, annotatedHeadWeight = -1, headLimit = -1;
    std::string scoreMode, tiles;
    bool baseline = true, update = false, letterbox = false;
    CLI::App& app = options.app();
    app.add_option("--data", data,
                   "dataset root(s), comma-separated, whose classes form one unified model: MVTec-AD layout "
                   "(<root>/<class>/train/good, test/<type>, ground_truth/<type>) or VisA (split_csv/1cls.csv)")
        ->required()
        ->check(dmad_samples::nonEmpty());
    app.add_option("-o,--out", out, "output folder for results.json, results.md, scores.csv and heatmaps/")
        ->required()
        ->check(dmad_samples::nonEmpty());
    app.add_option("--classes", classesArg, "comma-separated classes (default: every class folder)");
    app.add_option("--backbone", backbone,
                   "backbone preset (mobilenet_v2: DMAD::Params()'s, fast training; inception_v3: best accuracy), "
                   "a saved FeatureExtractor (.yml, .xml, .json, .gz) or a network file named after a preset");
    app.add_option("-m,--model", model, "network file of the preset (default: the preset's file in "
                                         "$OPENCV_DMAD_BACKBONE_PATH)");
    app.add_option("--anomalies", anomalies,
                   "annotated anomalies per class taken from the test set for training (0: unsupervised)")
        ->check(CLI::Range(0, 100000));
    app.add_option("--scorer", scorerName, "dmad or patchcore")->check(CLI::IsMember({ "dmad", "patchcore" }));
    app.add_option("--baseline", baseline, "also evaluate the PatchCore scorer on the same features and bank");
    app.add_option("--seed", seed, "seed of everything random")->check(CLI::Range(0, 2147483647));
    app.add_option("--save", savePath, "save the trained model to this file")->check(dmad_samples::nonEmpty());
    app.add_option("--load", loadPath,
                   "evaluate this saved model instead of training one (pass the --anomalies and --seed it was "
                   "trained with)")
        ->check(dmad_samples::nonEmpty());
    app.add_option("--config", config, "cpu or paper (DMAD::Params::cpu / paper)")
        ->check(CLI::IsMember({ "cpu", "paper" }));
    app.add_option("--epochs", epochs, "override the configuration's epochs (0: keep)")->check(CLI::Range(0, 100000));
    app.add_option("--neighbours", neighbours, "override the neighbours per bank of the enhancement (0: keep)")
        ->check(CLI::Range(0, 1024));
    app.add_option("--lr", lr, "override the head's learning rate; the adaptor and enhancement get half of it (0: keep)")
        ->check(finiteIn(0, 10));
    app.add_option("--batch", batch, "override the normal patches per training step (0: keep)")
        ->check(CLI::Range(0, 10000000));
    app.add_option("--hidden", hidden, "override the scoring head's hidden units (0: keep)")
        ->check(CLI::Range(0, 65536));
    app.add_option("--noise", noise, "override the pseudo-anomaly noise sigma (-1: keep)")
        ->check(finiteInOrKeep(-1, 0, 100));
    app.add_option("--coreset", coreset, "override the normal bank's coreset ratio (0: keep)")->check(finiteIn(0, 1));
    app.add_option("--abnormal-bank", abnormalBank,
                   "largest abnormal bank as a fraction of the normal one (0: every patch; -1: keep the default)")
        ->check(finiteInOrKeep(-1, 0, 1000));
    app.add_option("--recipe", recipe,
                   "override the unsupervised abnormal-bank recipe (DualMemoryBank::AbnormalSource flags, -1: keep)")
        ->check(CLI::Range(-1, 255));
    app.add_option("--synthetic-weight", syntheticWeight,
                   "override the loss weight of synthetic defects in unsupervised training (-1: keep)")
        ->check(finiteInOrKeep(-1, 0, 1000));
    app.add_option("--synthetic-until-annotated", syntheticUntilAnnotated,
                   "annotated images from which a class's synthetic defects leave the loss "
                   "(TrainingParams::syntheticUntilAnnotated; 0: never; -1: keep)")
        ->check(CLI::Range(-1, 1000000));
    app.add_flag("--letterbox", letterbox,
                 "keep each image's aspect ratio: scaled to fit the backbone input and padded "
                 "(FeatureExtractor::Params::letterbox), instead of stretched");
    app.add_option("--tiles", tiles,
                   "cut each image, resized to the backbone input times the tiles, into tiles run one by one "
                   "(FeatureExtractor::Params::tiles): N for N x N, or WxH; each 1..8")
        ->check(CLI::Validator([](std::string& t) { return parseTiles(t).empty() ? "expected N or WxH, each 1..8"
                                                                                  : std::string(); },
                               "N|WxH"));
    app.add_flag("--update", update,
                 "with --load and --anomalies: add the annotated anomalies to the loaded model (DMAD::update) "
                 "before evaluating it, instead of training with them from the start");
    app.add_option("--score", scoreMode,
                   "what the DMAD score is made of: distance+head (the default: the standardised distance plus "
                   "--head-weight times the standardised head score) or head (the head alone, the reference code)")
        ->check(CLI::IsMember({ "distance+head", "head" }));
    app.add_option("--head-weight", headWeight,
                   "override the head's weight against the distance in the distance+head score (-1: keep)")
        ->check(finiteInOrKeep(-1, 0, 1000));
    app.add_option("--annotated-head-weight", annotatedHeadWeight,
                   "override the head's weight in the classes with annotated anomalies (-1: keep)")
        ->check(finiteInOrKeep(-1, 0, 1000));
    app.add_option("--head-limit", headLimit,
                   "override the most the weighted head score adds to a patch's distance+head score, in the "
                   "distance's tail-widths (0: no limit, -1: keep)")
        ->check(finiteInOrKeep(-1, 0, 1000));
    app.add_option("--heads", heads,
                   "override how many enhancement + head pairs are trained, each from its own seed, and "
                   "averaged (0: keep)")
        ->check(CLI::Range(0, 16));
    app.add_option("--pseudo", pseudo,
                   "override where Gaussian pseudo anomalies are made: 0 representation, 1 features (-1: keep)")
        ->check(CLI::Range(-1, 1));
    app.add_option("--distances", distances,
                   "override whether the representation includes the bank distances: 0 or 1 (-1: keep)")
        ->check(CLI::Range(-1, 1));
    app.add_option("--balance-classes", balanceClasses,
                   "override whether every class trains the head on as many normal patches as an average class, "
                   "instead of in proportion to its images: 0 or 1 (-1: keep)")
        ->check(CLI::Range(-1, 1));
    app.add_option("--calibration", calibration,
                   "override the fraction of each class's normal images held out of training to calibrate the "
                   "thresholds on (0: none, calibrate leave-one-image-out; -1: keep)")
        ->check(finiteInOrKeep(-1, 0, 0.5));
    app.add_option("--validation", validation,
                   "override the fraction of each class's normal images and annotated anomalies that validate the "
                   "score instead of training it, to keep the best epoch (0: none, keep the last; -1: keep)")
        ->check(finiteInOrKeep(-1, 0, 0.5));
    app.add_option("--calibration_images", calibrationImages,
                   "override the normal images per class scored leave-one-image-out to calibrate the thresholds "
                   "(0: no calibration; -1: keep)")
        ->check(CLI::Range(-1, 1000000));
    app.add_option("--heatmaps", heatmaps, "heatmaps written per class and test type (-1: all, 0: none)")
        ->check(CLI::Range(-1, 1000000));
    app.add_option("--threads", threads, "OpenCV threads (-1: OpenCV's default)")->check(dmad_samples::threadCount());
    const int status = options.parse(argc, argv);
    if (status >= 0)
        return status;
    try
    {
        if (threads > 0)
            setNumThreads(threads);
        defaultBackbonePath(argv[0]);
        dmad_samples::prepareOutputFolder(out, "--out");
        if (!savePath.empty())
            dmad_samples::checkOutputFile(savePath, "--save");  // before training, not after
        for (const String& c : splitList(classesArg))
            dmad_samples::checkedPathComponent(c, "--classes: the class");

        dmad::DatasetSplit split = readDatasets(splitList(data), splitList(classesArg));
        std::vector<dmad::DatasetSample> taken;
        if (anomalies > 0)
            split = dmad::takeAnnotatedAnomalies(split, anomalies, (uint64)seed, taken, true);

        dmad::DMAD::Params params = config == "paper" ? dmad::DMAD::Params::paper() : dmad::DMAD::Params::cpu();
        params.backbone = backboneParams(backbone, model);
        if (letterbox)
            params.backbone.letterbox = true;
        if (!tiles.empty())
            params.backbone.tiles = parseTiles(tiles);
        params.scorer = scorerName == "patchcore" ? dmad::DMAD::SCORER_PATCHCORE : dmad::DMAD::SCORER_DMAD;
        params.seed = seed;
        if (epochs > 0)
            params.training.epochs = epochs;
        if (neighbours > 0)
            params.neighbours = neighbours;
        if (lr > 0)
        {
            dmad::DMAD::TrainingParams& t = params.training;
            t.headLearningRate = lr;
            t.adaptorLearningRate = t.enhancementLearningRate = t.headLearningRate / 2;
        }
        if (batch > 0)
            params.training.batchPatches = batch;
        if (hidden > 0)
            params.hiddenDims = hidden;
        if (noise >= 0)
            params.training.noiseStd = noise;
        if (coreset > 0)
            params.banks.normalCoresetRatio = coreset;
        if (abnormalBank >= 0)
            params.banks.abnormalBankRatio = abnormalBank;
        if (distances >= 0)
            params.distanceFeatures = distances != 0;
        if (pseudo >= 0)
            params.training.pseudoAnomalies = pseudo;
        if (syntheticWeight >= 0)
            params.training.syntheticWeight = syntheticWeight;
        if (syntheticUntilAnnotated >= 0)
            params.training.syntheticUntilAnnotated = syntheticUntilAnnotated;
        if (!scoreMode.empty())
            params.scoreMode = scoreMode == "head" ? dmad::DMAD::SCORE_HEAD : dmad::DMAD::SCORE_DISTANCE_AND_HEAD;
        if (headWeight >= 0)
            params.headWeight = headWeight;
        if (annotatedHeadWeight >= 0)
            params.annotatedHeadWeight = annotatedHeadWeight;
        if (headLimit >= 0)
            params.headLimit = headLimit;
        if (recipe >= 0)
            params.banks.unsupervisedSources = recipe;
        if (calibration >= 0)
            params.calibrationFraction = calibration;
        if (calibrationImages >= 0)
            params.calibrationImages = calibrationImages;
        if (validation >= 0)
            params.training.validationFraction = validation;
        if (balanceClasses >= 0)
            params.training.balanceClasses = balanceClasses != 0;
        if (heads > 0)
            params.scoringHeads = heads;

        std::vector<String> normalFiles, anomalousFiles, maskFiles;
        std::vector<int> classIds;
        std::map<String, int> nTrain;
        for (const dmad::DatasetSample& s : split.train)
        {
            normalFiles.push_back(s.imagePath);
            classIds.push_back(split.classIndex(s.className));
            nTrain[s.className]++;
        }
        // an annotated anomaly trains only through its mask: a class without masks, or a mask that
        // marks nothing (some datasets have them), leaves the sample out of training
        int withoutMask = 0;
        std::vector<Mat> anomalyMasks;  // read once: the check, and update() below
        for (const dmad::DatasetSample& s : taken)
        {
            if (s.maskPath.empty())
            {
                withoutMask++;
                continue;
            }
            const Mat mask = dmad::readImage(s.maskPath, IMREAD_GRAYSCALE);
            if (countNonZero(mask) == 0)
            {
                std::cerr << "dmad_mvtec: the mask of " << s.imagePath << " marks no defect pixel: "
                          << "removed from the test set, not used for training" << std::endl;
                continue;
            }
            anomalousFiles.push_back(s.imagePath);
            maskFiles.push_back(s.maskPath);
            anomalyMasks.push_back(mask);
            classIds.push_back(split.classIndex(s.className));
        }
        if (withoutMask > 0)
            std::cerr << "dmad_mvtec: " << withoutMask << " annotated anomalies come from classes without masks: "
                      << "removed from the test set, not used for training" << std::endl;

        Ptr<dmad::DMAD> detector;
        TickMeter trainTimer;
        if (!loadPath.empty())
        {
            // The model's own parameters describe the run; the test split still follows
            // --anomalies and --seed, which must be those it was trained with.
            detector = dmad::DMAD::load(loadPath);
            params = detector->getParams();
            params.scorer = scorerName == "patchcore" ? dmad::DMAD::SCORER_PATCHCORE : dmad::DMAD::SCORER_DMAD;
            detector->setScorer(params.scorer);
            if (update)
            {
                if (anomalousFiles.empty())
                    CV_Error(Error::StsBadArg, "--update needs --anomalies from classes with masks");
                std::vector<int> anomalyClassIds(classIds.end() - (long)anomalousFiles.size(), classIds.end());
                std::vector<Mat> images;
                for (const String& file : anomalousFiles)
                    images.push_back(dmad::readImage(file));
                trainTimer.start();
                detector->update(images, anomalyMasks, anomalyClassIds);
                trainTimer.stop();
                std::cerr << "dmad_mvtec: " << loadPath << " updated with " << images.size()
                          << " annotated anomalies in " << trainTimer.getTimeSec() << " s" << std::endl;
            }
            else
                std::cerr << "dmad_mvtec: evaluating " << loadPath << " (no training)" << std::endl;
        }
        else if (update)
            CV_Error(Error::StsBadArg, "--update needs --load (a trained model to update)");
        else
        {
            detector = dmad::DMAD::create(params);
            trainTimer.start();
            detector->trainFromFiles(normalFiles, anomalousFiles, maskFiles, classIds);
            trainTimer.stop();
        }
        if (!savePath.empty() && (loadPath.empty() || update))
        {
            detector->save(savePath);
            std::cerr << "dmad_mvtec: model saved to " << savePath << std::endl;
        }

        detector->resetTimings();
        const Evaluation result = evaluate(*detector, split, nTrain, out + "/heatmaps", heatmaps, scorerName);
        const dmad::DMAD::Timings t = detector->getTimings();
        Evaluation peer;
        dmad::DMAD::Timings peerTimings;
        const bool withPeer = baseline && params.scorer == dmad::DMAD::SCORER_DMAD;
        if (withPeer)
        {
            // back to back with the same features, normal bank and threads: the cost of DMAD's
            // abnormal bank and head over the PatchCore scorer
            detector->setScorer(dmad::DMAD::SCORER_PATCHCORE);
            detector->resetTimings();
            peer = evaluate(*detector, split, nTrain, String(), 0, "patchcore");
            peerTimings = detector->getTimings();
        }

        // results.json
        const dmad::FeatureExtractor::Params& bp = detector->getParams().backbone;
        const double n = std::max(1.0, t.images);
        std::ostringstream json;
        json << "{\n  \"config\": {\n"
             << "    \"data\": " << jsonString(data) << ",\n"
             << "    \"classes\": [";
        for (size_t i = 0; i < split.classes.size(); i++)
            json << (i ? ", " : "") << jsonString(split.classes[i]);
        json << "],\n    \"backbone\": " << jsonString(bp.preset) << ",\n"
             << "    \"backbone_model\": " << jsonString(bp.model) << ",\n"
             << "    \"config\": " << jsonString(config) << ",\n"
             << "    \"anomalies\": " << anomalies << ",\n"
             << "    \"annotated_used\": " << anomalousFiles.size() << ",\n"
             << "    \"scorer\": " << jsonString(scorerName) << ",\n"
             << "    \"seed\": " << seed << ",\n"
             << "    \"loaded_model\": " << jsonString(loadPath) << ",\n"
             << "    \"updated\": " << (update ? "true" : "false") << ",\n"
             << "    \"threads\": " << getNumThreads() << ",\n"
             << "    \"epochs\": " << params.training.epochs << ",\n"
             << "    \"neighbours\": " << params.neighbours << ",\n"
             << "    \"hidden_dims\": " << params.hiddenDims << ",\n"
             << "    \"batch_patches\": " << params.training.batchPatches << ",\n"
             << "    \"head_learning_rate\": " << params.training.headLearningRate << ",\n"
             << "    \"noise_std\": " << params.training.noiseStd << ",\n"
             << "    \"synthetic_weight\": " << params.training.syntheticWeight << ",\n"
             << "    \"synthetic_until_annotated\": " << params.training.syntheticUntilAnnotated << ",\n"
             << "    \"score_mode\": " << params.scoreMode << ",\n"
             << "    \"head_weight\": " << params.headWeight << ",\n"
             << "    \"annotated_head_weight\": " << params.annotatedHeadWeight << ",\n"
             << "    \"head_limit\": " << params.headLimit << ",\n"
             << "    \"pseudo_anomalies\": " << params.training.pseudoAnomalies << ",\n"
             << "    \"distance_features\": " << (int)params.distanceFeatures << ",\n"
             << "    \"normal_coreset_ratio\": " << params.banks.normalCoresetRatio << ",\n"
             << "    \"unsupervised_sources\": " << params.banks.unsupervisedSources << ",\n"
             << "    \"abnormal_bank_ratio\": " << params.banks.abnormalBankRatio << ",\n"
             << "    \"calibration_fraction\": " << params.calibrationFraction << ",\n"
             << "    \"calibration_images\": " << params.calibrationImages << ",\n"
             << "    \"validation_fraction\": " << params.training.validationFraction << ",\n"
             << "    \"balance_classes\": " << (int)params.training.balanceClasses << ",\n"
             << "    \"scoring_heads\": " << params.scoringHeads << ",\n"
             << "    \"feature_dims\": " << bp.featureDims << ",\n"
             << "    \"input_size\": [" << bp.inputSize.width << ", " << bp.inputSize.height << "],\n"
             << "    \"letterbox\": " << (int)bp.letterbox << ",\n"
             << "    \"tiles\": [" << bp.tiles.width << ", " << bp.tiles.height << "],\n"
             << "    \"normal_bank\": " << detector->getMemoryBanks()->getNormalBank()->size() << ",\n"
             << "    \"abnormal_bank\": " << detector->getMemoryBanks()->getAbnormalBank()->size() << ",\n"
             << "    \"command\": " << jsonString([&] {
                    String c;
                    for (int i = 0; i < argc; i++)
                        c += (i ? " " : "") + String(argv[i]);
                    return c;
                }()) << "\n  },\n  \"classes\": {\n";
        for (size_t i = 0; i < result.classes.size(); i++)
            json << "    " << jsonString(result.classes[i].name) << ": " << metricsJson(result.classes[i], "    ")
                 << (i + 1 < result.classes.size() ? ",\n" : "\n");
        json << "  },\n  \"mean\": " << metricsJson(result.mean, "  ") << ",\n";
        json << "  \"calibration\": " << calibrationJson(result, "  ") << ",\n";
        if (withPeer)
        {
            json << "  \"baseline_patchcore\": {\n    \"classes\": {\n";
            for (size_t i = 0; i < peer.classes.size(); i++)
                json << "      " << jsonString(peer.classes[i].name) << ": " << metricsJson(peer.classes[i], "      ")
                     << (i + 1 < peer.classes.size() ? ",\n" : "\n");
            json << "    },\n    \"mean\": " << metricsJson(peer.mean, "    ") << ",\n"
                 << "    \"calibration\": " << calibrationJson(peer, "    ") << "\n  },\n";
        }
        auto msPerImage = [](const dmad::DMAD::Timings& tm) {
            return (tm.extractMs + tm.searchMs + tm.scoreMs + tm.mapMs) / std::max(1.0, tm.images);
        };
        json << "  \"timing\": {\n"
             << "    \"extract_ms_per_image\": " << jsonNumber(t.extractMs / n) << ",\n"
             << "    \"search_ms_per_image\": " << jsonNumber(t.searchMs / n) << ",\n"
             << "    \"score_ms_per_image\": " << jsonNumber(t.scoreMs / n) << ",\n"
             << "    \"map_ms_per_image\": " << jsonNumber(t.mapMs / n) << ",\n"
             << "    \"total_ms_per_image\": " << jsonNumber(msPerImage(t)) << ",\n";
        if (withPeer)
            json << "    \"patchcore_search_ms_per_image\": "
                 << jsonNumber(peerTimings.searchMs / std::max(1.0, peerTimings.images)) << ",\n"
                 << "    \"patchcore_total_ms_per_image\": " << jsonNumber(msPerImage(peerTimings)) << ",\n"
                 << "    \"dmad_over_patchcore\": " << jsonNumber(msPerImage(t) / msPerImage(peerTimings)) << ",\n";
        json << "    \"train_s\": " << jsonNumber(loadPath.empty() || update ? trainTimer.getTimeSec() : NAN) << "\n  }\n}\n";
        dmad_samples::writeFileAtomically(out + "/results.json", json.str());

        // scores.csv: one line per test image
        std::ostringstream csv;
        csv << "class,type,image,label,score" << (withPeer ? ",patchcore_score" : "") << "\n";
        for (size_t i = 0; i < result.samples.size(); i++)
        {
            const dmad::DatasetSample& smp = *result.samples[i];
            csv << smp.className << "," << smp.defectType << "," << smp.imagePath << "," << (smp.anomalous ? 1 : 0)
                << "," << result.scores[i];
            if (withPeer)
                csv << "," << peer.scores[i];
            csv << "\n";
        }
        dmad_samples::writeFileAtomically(out + "/scores.csv", csv.str());

        // results.md
        std::vector<dmad::ClassMetrics> rows = result.classes;
        dmad::ClassMetrics mean = result.mean;
        mean.name = "**mean**";
        rows.push_back(mean);
        String md = "# DMAD on " + data + "\n\n";
        md += cv::format("One unified model (%s, %s backbone, %s, %d annotated anomalies per class, seed %d), "
                         "metrics in %%.\n\n", scorerName.c_str(), bp.preset.c_str(), config.c_str(), anomalies, seed);
        md += markdownTable(rows);
        if (withPeer)
        {
            std::vector<dmad::ClassMetrics> peerRows = peer.classes;
            dmad::ClassMetrics pm = peer.mean;
            pm.name = "**mean**";
            peerRows.push_back(pm);
            md += "\nPatchCore-style baseline (distance to the nearest normal patch), same features and bank:\n\n" +
                  markdownTable(peerRows);
        }
        if (result.calibrated)
        {
            std::vector<double> best;
            for (const dmad::ClassMetrics& c : result.classes)
                best.push_back(c.imageF1);
            md += cv::format("\nDecision thresholds calibrated at training, one per class: image F1 of the model's "
                             "verdicts %s (mean over classes), the best single threshold per class on the test set "
                             "reaches %s; the class was identified for %s of the test images.\n",
                             percent(meanOf(result.f1AtThreshold)).c_str(), percent(meanOf(best)).c_str(),
                             percent(meanOf(result.identified)).c_str());
        }
        md += loadPath.empty() ? cv::format("\nTraining %.1f s", trainTimer.getTimeSec())
                               : "\nModel loaded from " + loadPath;
        md += cv::format("; per test image: extraction %.1f ms, bank search %.1f ms, scoring %.1f ms, "
                         "map %.1f ms (%d threads).\n", t.extractMs / n, t.searchMs / n,
                         t.scoreMs / n, t.mapMs / n, getNumThreads());
        dmad_samples::writeFileAtomically(out + "/results.md", md);
        std::cout << md << std::endl;
        std::cout << "results: " << out << "/results.json, " << out << "/results.md, " << out
                  << "/scores.csv; heatmaps: " << out << "/heatmaps/" << std::endl;
    }
    catch (const cv::Exception& e)
    {
        std::cerr << "dmad_mvtec: " << e.err << std::endl;
        return 1;
    }
    return 0;
}
