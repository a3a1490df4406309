// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Steps 3-5 of the patch feature pipeline: local neighbourhood aggregation, upsampling to the finest
// grid and adaptive average pooling (PatchCore's PatchMaker, Preprocessing and Aggregator).
//
// The reference order is unfold -> upsample every one of the C*p*p maps -> pool the C*p*p vector.
// Pooling acts on the channel axis and upsampling on the spatial axes, so the two commute: this code
// pools at the layer's own grid and upsamples only `layerDims` maps, which is exact and much cheaper.

#include "precomp.hpp"

namespace cv {
namespace dmad {

namespace {

//! Bounds of torch.nn.functional.adaptive_avg_pool1d: output i averages input[begin(i), end(i)).
struct AdaptivePooling
{
    std::vector<int> begin, end;
    std::vector<float> weight;

    AdaptivePooling(int inputLength, int outputLength)
        : begin(outputLength), end(outputLength), weight(outputLength)
    {
        for (int i = 0; i < outputLength; i++)
        {
            begin[i] = (int)(((int64)i * inputLength) / outputLength);
            end[i] = (int)(((int64)(i + 1) * inputLength + outputLength - 1) / outputLength);
            weight[i] = 1.f / (float)(end[i] - begin[i]);
        }
    }

    void apply(const float* in, float* out) const
    {
        for (size_t i = 0; i < begin.size(); i++)
        {
            float sum = 0.f;
            for (int j = begin[i]; j < end[i]; j++)
                sum += in[j];
            out[i] = sum * weight[i];
        }
    }
};

//! Bilinear sampling with half-pixel centres and edge clamping (align_corners=False, INTER_LINEAR).
struct LinearTaps
{
    std::vector<int> i0, i1;
    std::vector<float> w0, w1;

    LinearTaps(int inputLength, int outputLength)
        : i0(outputLength), i1(outputLength), w0(outputLength), w1(outputLength)
    {
        const double ratio = (double)inputLength / outputLength;
        for (int o = 0; o < outputLength; o++)
        {
            double src = std::max(0.0, (o + 0.5) * ratio - 0.5);
            int lo = std::min((int)src, inputLength - 1);
            float frac = (float)(src - lo);
            i0[o] = lo;
            i1[o] = std::min(lo + 1, inputLength - 1);
            w1[o] = lo + 1 < inputLength ? frac : 0.f;
            w0[o] = 1.f - w1[o];
        }
    }
};

/** Pools the neighbourhood vectors of one layer at its own grid.
    @param blob  NCHW CV_32F layer output; @param image batch index
    @param out   (h*w) x layerDims CV_32F */
void poolNeighbourhoods(const Mat& blob, int image, int patchSize, const AdaptivePooling& pool, Mat& out)
{
    const int C = blob.size[1], h = blob.size[2], w = blob.size[3];
    const int r = patchSize / 2, pw = w + 2 * r, ph = h + 2 * r;

    // Channel-last copy with a zero border, so a neighbourhood vector is a fixed set of offsets.
    std::vector<float> padded((size_t)ph * pw * C, 0.f);
    const float* src = blob.ptr<float>(image);
    for (int c = 0; c < C; c++)
        for (int y = 0; y < h; y++)
        {
            const float* row = src + ((size_t)c * h + y) * w;
            float* dst = padded.data() + ((size_t)(y + r) * pw + r) * C + c;
            for (int x = 0; x < w; x++)
                dst[(size_t)x * C] = row[x];
        }

    // Unfold order: index = c * p*p + ky * p + kx.
    const int L = C * patchSize * patchSize;
    std::vector<int> offset(L);
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < patchSize; ky++)
            for (int kx = 0; kx < patchSize; kx++)
                offset[(c * patchSize + ky) * patchSize + kx] = (ky * pw + kx) * C + c;

    const int D = (int)pool.begin.size();
    out.create(h * w, D, CV_32F);
    parallel_for_(Range(0, h), [&](const Range& rows) {
        for (int y = rows.start; y < rows.end; y++)
            for (int x = 0; x < w; x++)
            {
                const float* base = padded.data() + ((size_t)y * pw + x) * C;
                float* dst = out.ptr<float>(y * w + x);
                for (int i = 0; i < D; i++)
                {
                    float sum = 0.f;
                    for (int j = pool.begin[i]; j < pool.end[i]; j++)
                        sum += base[offset[j]];
                    dst[i] = sum * pool.weight[i];
                }
            }
    });
}

} // namespace

void aggregatePatchFeatures(InputArrayOfArrays layerOutputs, OutputArray features, Size& grid,
                            int patchSize, int layerDims, int featureDims)
{
    CV_TRACE_FUNCTION();
    std::vector<Mat> layers;
    layerOutputs.getMatVector(layers);
    CV_Check(layers.size(), !layers.empty(), "dmad: no layer outputs to aggregate");
    CV_Check(patchSize, patchSize >= 1 && patchSize % 2 == 1, "dmad: patchSize must be odd and positive");
    CV_Check(layerDims, layerDims > 0, "dmad: layerDims must be positive");
    CV_Check(featureDims, featureDims > 0, "dmad: featureDims must be positive");

    const int batch = layers[0].dims == 4 ? layers[0].size[0] : 0;
    size_t finest = 0;
    for (size_t l = 0; l < layers.size(); l++)
    {
        const Mat& m = layers[l];
        if (m.dims != 4 || m.type() != CV_32F || !m.isContinuous() || m.total() == 0)
            CV_Error(Error::StsBadArg,
                     cv::format("dmad: layer output %d must be a non-empty continuous 4D CV_32F (NCHW) blob",
                                (int)l));
        if (m.size[0] != batch)
            CV_Error(Error::StsBadSize, cv::format("dmad: layer output %d has batch %d, layer 0 has %d",
                                                   (int)l, m.size[0], batch));
        if ((int64)m.size[2] * m.size[3] > (int64)layers[finest].size[2] * layers[finest].size[3])
            finest = l;
    }
    const int H = layers[finest].size[2], W = layers[finest].size[3], cells = H * W;
    grid = Size(W, H);

    const int nLayers = (int)layers.size();
    const AdaptivePooling finalPooling(nLayers * layerDims, featureDims);
    features.create(batch * cells, featureDims, CV_32F);
    Mat out = features.getMat();

    std::vector<Mat> pooled(nLayers);
    Mat stacked(cells, nLayers * layerDims, CV_32F);
    for (int b = 0; b < batch; b++)
    {
        for (int l = 0; l < nLayers; l++)
        {
            const Mat& m = layers[l];
            const AdaptivePooling layerPooling(m.size[1] * patchSize * patchSize, layerDims);
            poolNeighbourhoods(m, b, patchSize, layerPooling, pooled[l]);
        }
        parallel_for_(Range(0, H), [&](const Range& rows) {
            for (int l = 0; l < nLayers; l++)
            {
                const int h = layers[l].size[2], w = layers[l].size[3];
                const LinearTaps ty(h, H), tx(w, W);
                for (int Y = rows.start; Y < rows.end; Y++)
                    for (int X = 0; X < W; X++)
                    {
                        float* dst = stacked.ptr<float>(Y * W + X) + l * layerDims;
                        const float* p00 = pooled[l].ptr<float>(ty.i0[Y] * w + tx.i0[X]);
                        const float* p01 = pooled[l].ptr<float>(ty.i0[Y] * w + tx.i1[X]);
                        const float* p10 = pooled[l].ptr<float>(ty.i1[Y] * w + tx.i0[X]);
                        const float* p11 = pooled[l].ptr<float>(ty.i1[Y] * w + tx.i1[X]);
                        const float a = ty.w0[Y] * tx.w0[X], bw = ty.w0[Y] * tx.w1[X];
                        const float c = ty.w1[Y] * tx.w0[X], d = ty.w1[Y] * tx.w1[X];
                        for (int k = 0; k < layerDims; k++)
                            dst[k] = a * p00[k] + bw * p01[k] + c * p10[k] + d * p11[k];
                    }
            }
            for (int Y = rows.start; Y < rows.end; Y++)
                for (int X = 0; X < W; X++)
                    finalPooling.apply(stacked.ptr<float>(Y * W + X), out.ptr<float>(b * cells + Y * W + X));
        });
    }
}

}} // namespace cv::dmad
