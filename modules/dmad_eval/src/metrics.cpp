// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Detection metrics: image AUROC / AP / F1-max by sorting, pixel AUROC / AP / AU-PRO by an exact
// two-level counting sort of float32 scores (tens of millions of pixels in a few bytes each).

#include "precomp.hpp"

#include <limits>

namespace cv {
namespace dmad {

ClassMetrics::ClassMetrics()
    : imageAUROC(std::numeric_limits<double>::quiet_NaN()), imageAP(imageAUROC),
      imageF1(imageAUROC), pixelAUROC(imageAUROC), pixelAP(imageAUROC), pro(imageAUROC),
      nTrain(0), nTest(0), nTestAnomalous(0)
{
}

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

//! Kahan-compensated running sum: pixel sums run over tens of millions of small terms.
struct KahanSum
{
    double sum = 0, carry = 0;
    void add(double v)
    {
        const double y = v - carry, t = sum + y;
        carry = (t - sum) - y;
        sum = t;
    }
};

/** ROC area, average precision and F1-max, fed with the label counts of each distinct score while
    the threshold goes down. The ROC area is kept exactly, as twice the trapezoid area in units of
    one (anomalous, normal) pair. */
class RankAccumulator
{
public:
    RankAccumulator(uint64 positives, uint64 negatives) : P_(positives), N_(negatives)
    {
        // The exact ROC area needs 2 * P * N to fit in 64 bits.
        if (P_ + N_ >= ((uint64)1 << 32))
            CV_Error(Error::StsOutOfRange, "dmad: at most 2^32 - 1 scores or pixels can be ranked");
    }

    void step(uint64 dtp, uint64 dfp, double threshold)
    {
        area2_ += dfp * (2 * tp_ + dtp);
        tp_ += dtp;
        fp_ += dfp;
        if (dtp > 0)
            ap_.add((double)dtp / (double)P_ * ((double)tp_ / (double)(tp_ + fp_)));
        // F1 = 2PR / (P + R) = 2 tp / (tp + fp + P)
        const double f1 = 2.0 * (double)tp_ / (double)(tp_ + fp_ + P_);
        if (f1 > f1Max_)
        {
            f1Max_ = f1;
            f1Threshold_ = threshold;
        }
    }

    bool computable() const { return P_ > 0 && N_ > 0; }
    double auc() const { return computable() ? (double)area2_ / (2.0 * (double)P_ * N_) : kNaN; }
    double ap() const { return computable() ? ap_.sum : kNaN; }
    double f1Max() const { return computable() ? f1Max_ : kNaN; }
    double f1Threshold() const { return computable() ? f1Threshold_ : kNaN; }

private:
    uint64 P_, N_, tp_ = 0, fp_ = 0, area2_ = 0;
    KahanSum ap_;
    double f1Max_ = 0, f1Threshold_ = kNaN;
};

//! Flattens a score or label array of any depth into doubles.
std::vector<double> flatten(InputArray arr, const char* what)
{
    Mat m = arr.getMat();
    if (m.empty())
        return std::vector<double>();
    if (!m.isContinuous())
        m = m.clone();
    Mat flat;
    m.reshape(1, 1).convertTo(flat, CV_64F);
    std::vector<double> v(flat.begin<double>(), flat.end<double>());
    for (double x : v)
        if (cvIsNaN(x))
            CV_Error(Error::StsBadArg, cv::format("dmad: the %s contain NaN", what));
    return v;
}

RankAccumulator rankImages(InputArray scores, InputArray labels)
{
    const std::vector<double> s = flatten(scores, "scores"), l = flatten(labels, "labels");
    if (s.size() != l.size())
        CV_Error(Error::StsUnmatchedSizes, cv::format("dmad: %d scores but %d labels",
                                                      (int)s.size(), (int)l.size()));
    std::vector<std::pair<double, bool>> items(s.size());
    uint64 P = 0;
    for (size_t i = 0; i < s.size(); i++)
    {
        items[i] = std::make_pair(s[i], l[i] != 0);
        P += l[i] != 0;
    }
    std::sort(items.begin(), items.end(),
              [](const std::pair<double, bool>& a, const std::pair<double, bool>& b) {
                  return a.first > b.first;
              });
    RankAccumulator acc(P, (uint64)items.size() - P);
    for (size_t i = 0; i < items.size();)
    {
        uint64 dtp = 0, dfp = 0;
        size_t j = i;
        for (; j < items.size() && items[j].first == items[i].first; j++)
            (items[j].second ? dtp : dfp)++;
        acc.step(dtp, dfp, items[i].first);
        i = j;
    }
    return acc;
}

/** Order-preserving map of a float to an unsigned key (larger float, larger key); -0 and +0 get the
    same key. */
inline uint32_t floatKey(float f)
{
    if (f == 0.f)
        f = 0.f;
    Cv32suf u;
    u.f = f;
    const uint32_t bits = u.u;
    return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

inline float keyFloat(uint32_t key)
{
    Cv32suf u;
    u.u = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
    return u.f;
}

/** The normal pixels' keys in decreasing order, as (key, count) runs. Built with a counting sort on
    the high 16 bits (the low 16 bits are scattered into 2 bytes per pixel); each bucket is then
    sorted, or counted when it is large. */
class NegativeStream
{
public:
    NegativeStream() : hist_(65536, 0), starts_(65537, 0) {}

    void count(uint32_t key) { hist_[key >> 16]++; }

    void allocate()
    {
        for (int b = 0; b < 65536; b++)
            starts_[b + 1] = starts_[b] + hist_[b];
        low_.resize((size_t)starts_[65536]);
        fill_ = std::vector<uint64>(starts_.begin(), starts_.end() - 1);
        bucket_ = 65536;
    }

    void add(uint32_t key) { low_[(size_t)fill_[key >> 16]++] = (uint16_t)(key & 0xffff); }

    bool next(uint32_t& key, uint64& count)
    {
        for (;;)
        {
            if (counting_)
            {
                while (value_ >= 0 && counts_[value_] == 0)
                    value_--;
                if (value_ >= 0)
                {
                    key = ((uint32_t)bucket_ << 16) | (uint32_t)value_;
                    count = counts_[value_];
                    value_--;
                    return true;
                }
            }
            else if (left_ > 0)
            {
                const uint16_t v = slice_[left_ - 1];
                count = 0;
                while (left_ > 0 && slice_[left_ - 1] == v)
                    left_--, count++;
                key = ((uint32_t)bucket_ << 16) | v;
                return true;
            }
            // Move on to the next lower non-empty bucket.
            do
                bucket_--;
            while (bucket_ >= 0 && hist_[bucket_] == 0);
            if (bucket_ < 0)
                return false;
            const size_t n = (size_t)hist_[bucket_];
            slice_ = low_.data() + starts_[bucket_];
            counting_ = n > 65536;  // counting costs 65536 steps: worth it only for large buckets
            if (counting_)
            {
                counts_.assign(65536, 0);
                for (size_t i = 0; i < n; i++)
                    counts_[slice_[i]]++;
                value_ = 65535;
                left_ = 0;
            }
            else
            {
                std::sort(slice_, slice_ + n);
                left_ = n;
            }
        }
    }

private:
    std::vector<uint64> hist_, starts_, fill_;
    std::vector<uint16_t> low_;
    std::vector<uint64> counts_;
    int bucket_ = 65536;
    bool counting_ = false;
    uint16_t* slice_ = nullptr;
    size_t left_ = 0;
    int value_ = -1;
};

/** Trapezoid area under (FPR, PRO) from (0, 0) up to FPR = limit, fed point by point with FPR not
    decreasing; the segment crossing the limit is cut by linear interpolation, as MVTec's
    `trapezoid` does. */
class ProIntegrator
{
public:
    explicit ProIntegrator(double limit) : limit_(limit) {}

    void add(double x, double y)
    {
        if (done_)
            return;
        x = std::min(x, 1.0);
        y = std::min(y, 1.0);
        if (x <= limit_)
        {
            area_ += 0.5 * (y + y_) * (x - x_);
            x_ = x;
            y_ = y;
            return;
        }
        const double yLimit = y_ + (y - y_) * (limit_ - x_) / (x - x_);
        area_ += 0.5 * (yLimit + y_) * (limit_ - x_);
        done_ = true;
    }

    double normalisedArea() const { return area_ / limit_; }

private:
    double limit_, x_ = 0, y_ = 0, area_ = 0;
    bool done_ = false;
};

void getMaps(InputArrayOfArrays arr, std::vector<Mat>& maps, const char* what)
{
    maps.clear();
    if (arr.empty())
        return;
    if (!arr.isMatVector() && !arr.isUMatVector())
        CV_Error(Error::StsBadArg, cv::format("dmad: the %s must be a vector of Mat", what));
    arr.getMatVector(maps);
}

struct PixelResult
{
    double auroc = kNaN, ap = kNaN, aupro = kNaN;
};

PixelResult rankPixels(InputArrayOfArrays anomalyMaps, InputArrayOfArrays masksArr, double maxFPR)
{
    if (!(maxFPR > 0 && maxFPR <= 1))
        CV_Error(Error::StsOutOfRange, cv::format("dmad: maxFPR %g must be in (0, 1]", maxFPR));
    std::vector<Mat> maps, masks;
    getMaps(anomalyMaps, maps, "anomaly maps");
    getMaps(masksArr, masks, "masks");
    if (maps.size() != masks.size())
        CV_Error(Error::StsUnmatchedSizes, cv::format("dmad: %d anomaly maps but %d masks",
                                                      (int)maps.size(), (int)masks.size()));
    for (size_t i = 0; i < maps.size(); i++)
    {
        if (maps[i].empty() || maps[i].channels() != 1 ||
            (maps[i].depth() != CV_32F && maps[i].depth() != CV_64F) || maps[i].dims != 2)
            CV_Error(Error::StsBadArg, cv::format("dmad: anomaly map %d must be a non-empty "
                                                  "one-channel CV_32F or CV_64F image", (int)i));
        if (!masks[i].empty() && (masks[i].channels() != 1 || masks[i].size() != maps[i].size()))
            CV_Error(Error::StsUnmatchedSizes, cv::format(
                "dmad: mask %d must be one-channel and of its map's size %dx%d", (int)i,
                maps[i].cols, maps[i].rows));
    }

    // Pass 1: defect pixels with their region, normal pixels into the high-16-bit histogram.
    std::vector<uint64> positives;    // key << 32 | global region index
    std::vector<double> invArea;      // 1 / area of each region
    NegativeStream negatives;
    uint64 nNegative = 0;
    Mat map32, binary, labels, stats, centroids;
    for (size_t i = 0; i < maps.size(); i++)
    {
        maps[i].convertTo(map32, CV_32F);
        const int regionBase = (int)invArea.size();
        int nRegions = 0;
        if (!masks[i].empty())
        {
            binary = masks[i] != 0;
            // 8-connectivity: MVTec's reference labels with a 3x3 structure of ones.
            nRegions = connectedComponentsWithStats(binary, labels, stats, centroids, 8,
                                                    CV_32S) - 1;
            for (int r = 1; r <= nRegions; r++)
                invArea.push_back(1.0 / stats.at<int>(r, CC_STAT_AREA));
        }
        for (int y = 0; y < map32.rows; y++)
        {
            const float* s = map32.ptr<float>(y);
            const int* lab = nRegions > 0 ? labels.ptr<int>(y) : nullptr;
            for (int x = 0; x < map32.cols; x++)
            {
                if (cvIsNaN(s[x]))
                    CV_Error(Error::StsBadArg, cv::format(
                        "dmad: anomaly map %d has NaN at (%d, %d)", (int)i, x, y));
                const uint32_t key = floatKey(s[x]);
                if (lab && lab[x] > 0)
                    positives.push_back(((uint64)key << 32) | (uint32_t)(regionBase + lab[x] - 1));
                else
                {
                    negatives.count(key);
                    nNegative++;
                }
            }
        }
    }

    // Pass 2: scatter the normal pixels' low bits into their buckets.
    negatives.allocate();
    for (size_t i = 0; i < maps.size(); i++)
    {
        maps[i].convertTo(map32, CV_32F);
        if (!masks[i].empty())
            binary = masks[i] != 0;
        for (int y = 0; y < map32.rows; y++)
        {
            const float* s = map32.ptr<float>(y);
            const uchar* m = masks[i].empty() ? nullptr : binary.ptr<uchar>(y);
            for (int x = 0; x < map32.cols; x++)
                if (!m || !m[x])
                    negatives.add(floatKey(s[x]));
        }
    }
    std::sort(positives.begin(), positives.end());

    // Merge both in decreasing score order; each distinct score is one threshold.
    PixelResult result;
    RankAccumulator acc(positives.size(), nNegative);
    ProIntegrator pro(maxFPR);
    const double nRegionsTotal = (double)invArea.size();
    KahanSum proSum;
    uint64 fp = 0;
    size_t pos = positives.size();
    uint32_t negKey = 0;
    uint64 negCount = 0;
    bool haveNeg = negatives.next(negKey, negCount);
    while (pos > 0 || haveNeg)
    {
        const uint32_t posKey = pos > 0 ? (uint32_t)(positives[pos - 1] >> 32) : 0;
        const uint32_t key = pos == 0 ? negKey : !haveNeg ? posKey : std::max(posKey, negKey);
        uint64 dtp = 0, dfp = 0;
        while (pos > 0 && (uint32_t)(positives[pos - 1] >> 32) == key)
        {
            proSum.add(invArea[(size_t)(positives[pos - 1] & 0xffffffffu)]);
            dtp++;
            pos--;
        }
        if (haveNeg && negKey == key)
        {
            dfp = negCount;
            haveNeg = negatives.next(negKey, negCount);
        }
        acc.step(dtp, dfp, keyFloat(key));
        fp += dfp;
        if (nNegative > 0 && nRegionsTotal > 0)
            pro.add((double)fp / (double)nNegative, proSum.sum / nRegionsTotal);
    }
    result.auroc = acc.auc();
    result.ap = acc.ap();
    if (nNegative > 0 && nRegionsTotal > 0)
        result.aupro = pro.normalisedArea();
    return result;
}

} // namespace

double rocAUC(InputArray scores, InputArray labels)
{
    return rankImages(scores, labels).auc();
}

double averagePrecision(InputArray scores, InputArray labels)
{
    return rankImages(scores, labels).ap();
}

double maxF1Score(InputArray scores, InputArray labels, double* threshold)
{
    const RankAccumulator acc = rankImages(scores, labels);
    if (threshold)
        *threshold = acc.f1Threshold();
    return acc.f1Max();
}

void pixelMetrics(InputArrayOfArrays anomalyMaps, InputArrayOfArrays masks, double& pixelAUROC,
                  double& pixelAP, double& aupro, double maxFPR)
{
    CV_TRACE_FUNCTION();
    const PixelResult r = rankPixels(anomalyMaps, masks, maxFPR);
    pixelAUROC = r.auroc;
    pixelAP = r.ap;
    aupro = r.aupro;
}

double auPRO(InputArrayOfArrays anomalyMaps, InputArrayOfArrays masks, double maxFPR)
{
    return rankPixels(anomalyMaps, masks, maxFPR).aupro;
}

ClassMetrics computeClassMetrics(const String& name, InputArray imageScores, InputArray imageLabels,
                                 InputArrayOfArrays anomalyMaps, InputArrayOfArrays masks,
                                 double maxFPR)
{
    CV_TRACE_FUNCTION();
    ClassMetrics m;
    m.name = name;
    const RankAccumulator acc = rankImages(imageScores, imageLabels);
    m.imageAUROC = acc.auc();
    m.imageAP = acc.ap();
    m.imageF1 = acc.f1Max();
    const std::vector<double> labels = flatten(imageLabels, "labels");
    m.nTest = (int)labels.size();
    m.nTestAnomalous = (int)std::count_if(labels.begin(), labels.end(),
                                          [](double v) { return v != 0; });
    if (!masks.empty())
    {
        if (anomalyMaps.empty())
            CV_Error(Error::StsBadArg, "dmad: masks were given for class '" + name +
                                       "' but no anomaly maps");
        if ((int)anomalyMaps.total() != m.nTest)
            CV_Error(Error::StsUnmatchedSizes, cv::format(
                "dmad: class '%s' has %d image scores but %d anomaly maps", name.c_str(), m.nTest,
                (int)anomalyMaps.total()));
        pixelMetrics(anomalyMaps, masks, m.pixelAUROC, m.pixelAP, m.pro, maxFPR);
    }
    return m;
}

ClassMetrics meanMetrics(const std::vector<ClassMetrics>& perClass)
{
    ClassMetrics mean;
    mean.name = "mean";
    double ClassMetrics::* const fields[] = { &ClassMetrics::imageAUROC, &ClassMetrics::imageAP,
                                              &ClassMetrics::imageF1, &ClassMetrics::pixelAUROC,
                                              &ClassMetrics::pixelAP, &ClassMetrics::pro };
    for (double ClassMetrics::* f : fields)
    {
        double sum = 0;
        int n = 0;
        for (const ClassMetrics& c : perClass)
            if (!cvIsNaN(c.*f))
                sum += c.*f, n++;
        mean.*f = n > 0 ? sum / n : kNaN;
    }
    for (const ClassMetrics& c : perClass)
    {
        mean.nTrain += c.nTrain;
        mean.nTest += c.nTest;
        mean.nTestAnomalous += c.nTestAnomalous;
    }
    return mean;
}

String formatMetrics(const std::vector<ClassMetrics>& rows)
{
    size_t width = 5;
    for (const ClassMetrics& r : rows)
        width = std::max(width, r.name.size());
    auto cell = [](double v) {
        return cvIsNaN(v) ? String("    n/a") : cv::format("%7.2f", 100 * v);
    };
    String out = cv::format("%-*s %7s %7s %7s %7s %7s %7s %6s %6s %6s\n", (int)width, "class",
                            "I-AUROC", "I-AP", "I-F1max", "P-AUROC", "P-AP", "AU-PRO", "train",
                            "test", "anom");
    for (const ClassMetrics& r : rows)
        out += cv::format("%-*s", (int)width, r.name.c_str()) + " " + cell(r.imageAUROC) + " " +
               cell(r.imageAP) + " " + cell(r.imageF1) + " " + cell(r.pixelAUROC) + " " +
               cell(r.pixelAP) + " " + cell(r.pro) +
               cv::format(" %6d %6d %6d\n", r.nTrain, r.nTest, r.nTestAnomalous);
    return out;
}

}} // namespace cv::dmad
