// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Building the normal and abnormal memory banks (DMAD section 1.4) from patch features.

#include "precomp.hpp"
#include "io/model_persistence.hpp"
#include "io/persistence.hpp"

namespace cv {
namespace dmad {

static const char* const kDualClass = "DualMemoryBank";
static const char* const kDualNode = "opencv_dmad_DualMemoryBank";
static const char* const kNormalBankNode = "normal_bank";
static const char* const kAbnormalBankNode = "abnormal_bank";
static const char* const kAbnormalBankRatioKey = "abnormal_bank_ratio";
// doc/memory_bank.md, "Compact abnormal bank": the four-class AUROC against the bank's size
static const double kDefaultAbnormalBankRatio = 0.2;

DualMemoryBank::Params::Params()
    : normalCoresetRatio(0.02),
      // Synthetic defects stay when some anomalies are annotated: a unified model has classes
      // with annotations and classes without (doc/model.md, semi-supervised modes).
      supervisedSources(ABNORMAL_ANNOTATED | ABNORMAL_ANOMALY_CENTRE | ABNORMAL_TEXTURES | ABNORMAL_SYNTHETIC),
      unsupervisedSources(ABNORMAL_SYNTHETIC | ABNORMAL_PERTURBED_NORMAL),
      noiseStd(0.015), textureCoresetRatio(0.1), perturbedNormalRatio(0.25),
      abnormalBankRatio(kDefaultAbnormalBankRatio), seed(0)
{
    // float16 banks: half the memory and model file, and no AUROC digit changes
    // (doc/memory_bank.md, "Effect of float16 on AUROC")
    bank.halfPrecisionStorage = true;
}

void DualMemoryBank::Params::write(FileStorage& fs) const
{
    fs << "normal_coreset_ratio" << normalCoresetRatio << "coreset_projection_dims" << coreset.projectionDims
       << "coreset_start_points" << coreset.startPoints << "coreset_seed" << coreset.seed
       << "supervised_sources" << supervisedSources << "unsupervised_sources" << unsupervisedSources
       << "noise_std" << noiseStd << "texture_coreset_ratio" << textureCoresetRatio
       << "perturbed_normal_ratio" << perturbedNormalRatio << kAbnormalBankRatioKey << abnormalBankRatio
       << "seed" << seed;
    fs << "bank_params" << "{";
    bank.write(fs);
    fs << "}";
}

void DualMemoryBank::Params::read(const FileNode& node)
{
    const String where = "DualMemoryBank params";
    normalCoresetRatio = persistence::readReal(node, "normal_coreset_ratio", where);
    coreset.projectionDims = persistence::readInt(node, "coreset_projection_dims", where);
    coreset.startPoints = persistence::readInt(node, "coreset_start_points", where);
    coreset.seed = persistence::readInt(node, "coreset_seed", where);
    supervisedSources = persistence::readInt(node, "supervised_sources", where);
    unsupervisedSources = persistence::readInt(node, "unsupervised_sources", where);
    noiseStd = persistence::readReal(node, "noise_std", where);
    textureCoresetRatio = persistence::readReal(node, "texture_coreset_ratio", where);
    perturbedNormalRatio = persistence::readReal(node, "perturbed_normal_ratio", where);
    // files written before the compact abnormal bank kept every abnormal patch
    abnormalBankRatio = node[kAbnormalBankRatioKey].empty()
                            ? 0.0
                            : persistence::readReal(node, kAbnormalBankRatioKey, where);
    seed = persistence::readInt(node, "seed", where);
    bank.read(node["bank_params"]);
}

std::vector<int> maskedPatchIndices(InputArray maskArg, Size grid)
{
    const Mat mask = maskArg.getMat();
    if (mask.empty())
        CV_Error(Error::StsBadArg, "dmad: empty anomaly mask");
    if (mask.channels() != 1 || (mask.depth() != CV_8U && mask.depth() != CV_16U && mask.depth() != CV_32F))
        CV_Error(Error::StsBadArg, "dmad: an anomaly mask must be single-channel 8U, 16U or 32F");
    if (grid.width < 1 || grid.height < 1)
        CV_Error(Error::StsBadArg, "dmad: invalid patch grid");
    // Area averaging of the 0/1 mask is positive exactly where a cell's footprint holds a defect pixel.
    Mat binary, coverage;
    compare(mask, 0, binary, CMP_NE);
    binary.convertTo(binary, CV_32F, 1.0 / 255.0);
    resize(binary, coverage, grid, 0, 0, INTER_AREA);
    std::vector<int> cells;
    for (int y = 0; y < grid.height; y++)
        for (int x = 0; x < grid.width; x++)
            if (coverage.at<float>(y, x) > 0.f)
                cells.push_back(y * grid.width + x);
    return cells;
}

std::vector<int> maskedPatchIndices(InputArray maskArg, const FeatureExtractor::Params& geometry, Size grid)
{
    const Mat mask = maskArg.getMat();
    if (mask.empty())
        return maskedPatchIndices(mask, grid);  // its error
    const Rect region = FeatureExtractor::inputRegion(geometry, mask.size());
    const Size canvasSize = FeatureExtractor::canvasSize(geometry);
    if (region.size() == canvasSize)
        return maskedPatchIndices(mask, grid);
    // the 0/1 mask at the region's size on an empty canvas; area averaging keeps any defect pixel's trace
    Mat binary, placed, canvas = Mat::zeros(canvasSize, CV_32F);
    compare(mask, 0, binary, CMP_NE);
    binary.convertTo(binary, CV_32F, 1.0 / 255.0);
    resize(binary, placed, region.size(), 0, 0, INTER_AREA);
    placed.copyTo(canvas(region));
    return maskedPatchIndices(canvas, grid);
}

DualMemoryBank::Sources::Sources() {}

namespace {

//! Ids are optional; given ones must be one CV_32S value per feature row.
void checkIds(const Mat& ids, int rows, const char* what)
{
    if (!ids.empty() && (ids.type() != CV_32S || ids.total() != (size_t)rows))
        CV_Error(Error::StsBadSize,
                 cv::format("dmad: DualMemoryBank::Sources::%s must hold one CV_32S id per feature "
                            "row (%d), got %d values of %s", what, rows, (int)ids.total(),
                            typeToString(ids.type()).c_str()));
}

Mat idsOrDefault(const Mat& ids, int rows)
{
    return ids.empty() ? Mat(rows, 1, CV_32S, Scalar(-1)) : ids.reshape(1, rows);
}

Mat rowsOf(const Mat& m, const std::vector<int>& rows)
{
    Mat out((int)rows.size(), m.cols, m.type());
    for (size_t i = 0; i < rows.size(); i++)
        m.row(rows[i]).copyTo(out.row((int)i));
    return out;
}

String describeSources(int flags)
{
    static const std::pair<int, const char*> names[] = {
        { DualMemoryBank::ABNORMAL_ANNOTATED, "annotated" },
        { DualMemoryBank::ABNORMAL_ANOMALY_CENTRE, "anomaly-centre" },
        { DualMemoryBank::ABNORMAL_TEXTURES, "textures" },
        { DualMemoryBank::ABNORMAL_SYNTHETIC, "synthetic" },
        { DualMemoryBank::ABNORMAL_PERTURBED_NORMAL, "perturbed-normal" } };
    String s;
    for (const auto& n : names)
        if (flags & n.first)
            s += (s.empty() ? "" : "+") + String(n.second);
    return s.empty() ? String("none") : s;
}

} // namespace

class DualMemoryBankImpl CV_FINAL : public DualMemoryBank
{
public:
    explicit DualMemoryBankImpl(const Params& params) : params_(params)
    {
        validate(params);
        normal_ = MemoryBank::create(params.bank);
        abnormal_ = MemoryBank::create(params.bank);
    }

    void build(const Sources& s, bool withAbnormalBank) CV_OVERRIDE
    {
        CV_TRACE_FUNCTION();
        if (s.normal.empty())
            CV_Error(Error::StsBadArg, "dmad: the normal memory bank needs normal patch features");
        const int D = s.normal.cols;
        checkIds(s.normalImageIds, s.normal.rows, "normalImageIds");
        checkIds(s.normalClassIds, s.normal.rows, "normalClassIds");
        checkIds(s.annotatedImageIds, s.annotated.rows, "annotatedImageIds");
        checkIds(s.annotatedClassIds, s.annotated.rows, "annotatedClassIds");
        checkIds(s.syntheticImageIds, s.synthetic.rows, "syntheticImageIds");
        checkIds(s.syntheticClassIds, s.synthetic.rows, "syntheticClassIds");
        for (const Mat* part : { &s.annotated, &s.synthetic, &s.textures })
            if (!part->empty() && (part->cols != D || part->type() != CV_32F))
                CV_Error(Error::StsBadSize, cv::format("dmad: abnormal source features have %d dims, the normal ones %d",
                                                       part->cols, D));
        Ptr<MemoryBank> normal = MemoryBank::create(params_.bank), abnormal = MemoryBank::create(params_.bank);

        // normal bank: coreset of every class's normal patches together
        const int count = std::max(1, (int)std::lround(params_.normalCoresetRatio * s.normal.rows));
        const std::vector<int> keep = selectCoreset(s.normal, count, params_.coreset);
        const Mat normalIds = idsOrDefault(s.normalImageIds, s.normal.rows);
        const Mat normalClasses = idsOrDefault(s.normalClassIds, s.normal.rows);
        normal->add(rowsOf(s.normal, keep), rowsOf(normalIds, keep), rowsOf(normalClasses, keep));

        if (!withAbnormalBank)
        {
            normal_ = normal;
            abnormal_ = abnormal;
            used_ = 0;
            return;
        }
        const bool supervised = !s.annotated.empty();
        const int flags = supervised ? params_.supervisedSources : params_.unsupervisedSources;
        RNG rng((uint64)(int64)params_.seed * 6364136223846793005ULL + 1442695040888963407ULL);
        int used = 0;
        if ((flags & ABNORMAL_ANNOTATED) && supervised)
        {
            abnormal->add(s.annotated, idsOrDefault(s.annotatedImageIds, s.annotated.rows),
                          idsOrDefault(s.annotatedClassIds, s.annotated.rows));
            used |= ABNORMAL_ANNOTATED;
        }
        if ((flags & ABNORMAL_SYNTHETIC) && !s.synthetic.empty())
        {
            // synthetic patches keep the id of the normal image they were pasted into, so that
            // leave-one-image-out also hides them from that image's own training patches
            abnormal->add(s.synthetic, idsOrDefault(s.syntheticImageIds, s.synthetic.rows),
                          idsOrDefault(s.syntheticClassIds, s.synthetic.rows));
            used |= ABNORMAL_SYNTHETIC;
        }
        const Mat& anomalies = supervised ? s.annotated : s.synthetic;
        if ((flags & ABNORMAL_ANOMALY_CENTRE) && !anomalies.empty())
        {
            // the reference's KMeans(n_clusters=1): the global mean of the anomaly patches
            Mat centre;
            reduce(anomalies, centre, 0, REDUCE_AVG, CV_32F);
            Mat samples(anomalies.rows, D, CV_32F);
            rng.fill(samples, RNG::NORMAL, 0.0, params_.noiseStd);
            samples += repeat(centre, anomalies.rows, 1);
            abnormal->add(samples);
            used |= ABNORMAL_ANOMALY_CENTRE;
        }
        if ((flags & ABNORMAL_TEXTURES) && !s.textures.empty())
        {
            const int n = std::max(1, (int)std::lround(params_.textureCoresetRatio * s.textures.rows));
            abnormal->add(rowsOf(s.textures, selectCoreset(s.textures, n, params_.coreset)));
            used |= ABNORMAL_TEXTURES;
        }
        if (flags & ABNORMAL_PERTURBED_NORMAL)
        {
            const Mat bankFeatures = normal->getFeatures(), bankIds = normal->getImageIds(),
                      bankClasses = normal->getClassIds();
            const int n = std::max(1, (int)std::lround(params_.perturbedNormalRatio * bankFeatures.rows));
            std::vector<int> picks(n);
            for (int& p : picks)
                p = rng.uniform(0, bankFeatures.rows);
            Mat noise(n, D, CV_32F);
            rng.fill(noise, RNG::NORMAL, 0.0, params_.noiseStd);
            abnormal->add(rowsOf(bankFeatures, picks) + noise, rowsOf(bankIds, picks), rowsOf(bankClasses, picks));
            used |= ABNORMAL_PERTURBED_NORMAL;
        }
        if (params_.abnormalBankRatio > 0)
            abnormal = compacted(abnormal, std::max(1, (int)std::lround(params_.abnormalBankRatio * normal->size())));
        if (abnormal->empty())
            CV_Error(Error::StsError,
                     cv::format("dmad: the abnormal memory bank is empty: the %s recipe (%s) found no features",
                                supervised ? "supervised" : "unsupervised", describeSources(flags).c_str()));
        CV_LOG_INFO(NULL, "dmad: normal bank " << normal->size() << " x " << D << ", abnormal bank "
                                               << abnormal->size() << " (" << describeSources(used) << ")");
        normal_ = normal;
        abnormal_ = abnormal;
        used_ = used;
    }

    Ptr<MemoryBank> getNormalBank() const CV_OVERRIDE { return normal_; }
    Ptr<MemoryBank> getAbnormalBank() const CV_OVERRIDE { return abnormal_; }
    int abnormalSources() const CV_OVERRIDE { return used_; }
    Params getParams() const CV_OVERRIDE { return params_; }
    bool empty() const CV_OVERRIDE { return normal_->empty(); }

    //! The DualMemoryBank node: params and recipe; the banks are separate top-level nodes.
    void write(FileStorage& fs) const CV_OVERRIDE
    {
        persistence::writeHeader(fs, kDualClass);
        fs << "abnormal_sources" << used_ << "params" << "{";
        params_.write(fs);
        fs << "}";
    }

    void read(const FileNode& node) CV_OVERRIDE
    {
        const String where = "DualMemoryBank node";
        persistence::checkHeader(node, kDualClass, where);
        Params p;
        p.read(node["params"]);
        validate(p);
        params_ = p;
        used_ = persistence::readInt(node, "abnormal_sources", where);
    }

    void writeAll(FileStorage& fs, const String& dualName) const
    {
        persistence::writeNode(fs, dualName, *this);
        persistence::writeNode(fs, kNormalBankNode, *normal_);
        persistence::writeNode(fs, kAbnormalBankNode, *abnormal_);
    }

    //! Reads the DualMemoryBank node and the two bank nodes beside it (children of `container`).
    void readAll(const FileNode& dualNode, const FileNode& container, const String& filename)
    {
        read(dualNode);
        Ptr<MemoryBank> normal = MemoryBank::create(), abnormal = MemoryBank::create();
        persistence::readAlgorithmNode(*normal, container, kNormalBankNode, filename);
        persistence::readAlgorithmNode(*abnormal, container, kAbnormalBankNode, filename);
        if (normal->empty())
            CV_Error(Error::StsParseError, cv::format("dmad: '%s' holds an empty normal memory bank", filename.c_str()));
        if (!abnormal->empty() && normal->dims() != abnormal->dims())
            CV_Error(Error::StsParseError, cv::format("dmad: '%s': normal bank has %d dims, abnormal bank %d",
                                                      filename.c_str(), normal->dims(), abnormal->dims()));
        normal_ = normal;
        abnormal_ = abnormal;
    }

    void save(const String& filename) const CV_OVERRIDE
    {
        if (empty())
            CV_Error(Error::StsError, "dmad: saving an empty DualMemoryBank (build() it first)");
        persistence::saveAtomically(filename, [this](FileStorage& fs) { writeAll(fs, kDualNode); });
    }

    String getDefaultName() const CV_OVERRIDE { return kDualNode; }

private:
    //! The bank cut to at most `count` entries by selectBalancedCoreset() (the same when smaller).
    Ptr<MemoryBank> compacted(const Ptr<MemoryBank>& bank, int count) const
    {
        if (bank->size() <= count)
            return bank;
        const Mat features = bank->getFeatures(), imageIds = bank->getImageIds(), classIds = bank->getClassIds();
        const std::vector<int> keep = selectBalancedCoreset(features, classIds, count, params_.coreset);
        Ptr<MemoryBank> compact = MemoryBank::create(params_.bank);
        compact->add(rowsOf(features, keep), rowsOf(imageIds, keep), rowsOf(classIds, keep));
        return compact;
    }

    static void validate(const Params& p)
    {
        if (!(p.normalCoresetRatio > 0 && p.normalCoresetRatio <= 1) ||
            !(p.textureCoresetRatio > 0 && p.textureCoresetRatio <= 1))
            CV_Error(Error::StsBadArg, "dmad: coreset ratios must be in (0, 1]");
        if (!(p.noiseStd >= 0) || !(p.perturbedNormalRatio >= 0) || !(p.abnormalBankRatio >= 0))
            CV_Error(Error::StsBadArg, "dmad: noiseStd, perturbedNormalRatio and abnormalBankRatio must be >= 0");
        const int all = ABNORMAL_ANNOTATED | ABNORMAL_ANOMALY_CENTRE | ABNORMAL_TEXTURES | ABNORMAL_SYNTHETIC |
                        ABNORMAL_PERTURBED_NORMAL;
        if ((p.supervisedSources & ~all) || (p.unsupervisedSources & ~all) || !p.supervisedSources ||
            !p.unsupervisedSources)
            CV_Error(Error::StsBadArg, "dmad: invalid abnormal bank source flags");
    }

    Params params_;
    Ptr<MemoryBank> normal_, abnormal_;
    int used_ = 0;
};

Ptr<DualMemoryBank> DualMemoryBank::create(const Params& params)
{
    return makePtr<DualMemoryBankImpl>(params);
}

Ptr<DualMemoryBank> DualMemoryBank::load(const String& filename, const String& objname)
{
    FileStorage fs;
    const FileNode node = persistence::openNode(fs, filename, objname, kDualNode);
    Ptr<DualMemoryBankImpl> dual = makePtr<DualMemoryBankImpl>(Params());
    try
    {
        dual->readAll(node, fs.root(), filename);
    }
    catch (const cv::Exception& e)
    {
        persistence::rethrowWithPlace(e, filename, node);
    }
    return dual;
}

void writeDualMemoryBank(FileStorage& fs, const DualMemoryBank& banks, const String& name)
{
    dynamic_cast<const DualMemoryBankImpl&>(banks).writeAll(fs, name);
}

Ptr<DualMemoryBank> readDualMemoryBank(const FileNode& container, const String& name, const String& filename)
{
    const FileNode node = container[name];
    if (node.empty())
        CV_Error(Error::StsParseError, cv::format("dmad: '%s' has no node '%s'", filename.c_str(), name.c_str()));
    Ptr<DualMemoryBankImpl> dual = makePtr<DualMemoryBankImpl>(DualMemoryBank::Params());
    dual->readAll(node, container, filename);
    return dual;
}

}} // namespace cv::dmad
