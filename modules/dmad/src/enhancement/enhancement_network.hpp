// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Knowledge enhancement (DMAD section 1.5), forward and backward:
//   E(q, M) = BN_bank(q - m_1 + Attn(q, M)),   o = [P q ; P E(q, M_normal) ; P E(q, M_abnormal)]
// where m_1 is q's nearest entry of the bank and M its k nearest entries.
//   k = 1: Attn(q, m) = W_v q + b_v, the reference code's single-key attention.
//   k > 1: scaled dot-product attention of q over its k neighbours:
//          a = softmax_j((W_q q).(W_k m_j) / sqrt(D)),  Attn = W_v (sum_j a_j m_j) + b_v.
// Each bank has its own BatchNorm: the reference normalises each bank's residual with that call's
// batch statistics, so separate running statistics keep inference consistent with training.

#ifndef OPENCV_DMAD_ENHANCEMENT_NETWORK_HPP
#define OPENCV_DMAD_ENHANCEMENT_NETWORK_HPP

#include "nn/nn_layers.hpp"

namespace cv {
namespace dmad {
namespace nn {

template <typename T>
struct EnhancementNetwork
{
    enum { NORMAL = 0, ABNORMAL = 1, BANKS = 2 };

    int dims = 0, neighbours = 1;
    //! Append the Euclidean distance from q to its nearest entry of each bank: o gets 3D + 2 values.
    bool distances = false;
    Linear<T> value, query, key, adaptor;
    BatchNorm<T> bankNorm[BANKS];

    struct BankCache
    {
        Matrix<T> attended;   //!< k > 1: sum_j a_j m_j (the input of W_v)
        Matrix<T> weights;    //!< k > 1: B x k attention weights
        typename BatchNorm<T>::Cache norm;
        Matrix<T> enhanced;   //!< E
    };
    struct Cache
    {
        Matrix<T> projectedQuery;  //!< k > 1: U = q W_q^T
        Matrix<T> keyQuery;        //!< k > 1: U W_k, so that logit_j = keyQuery . m_j / sqrt(D)
        BankCache bank[BANKS];
    };

    void init(int featureDims, int k, RNG& rng, bool withDistances = false)
    {
        CV_Assert(featureDims > 0 && k >= 1);
        dims = featureDims;
        neighbours = k;
        distances = withDistances;
        value.init(dims, dims, true, rng);
        if (k > 1)
        {
            query.init(dims, dims, false, rng);
            key.init(dims, dims, false, rng);
        }
        for (BatchNorm<T>& bn : bankNorm)
            bn.init(dims);
        adaptor.init(dims, dims, true, rng);
    }

    int outputDims() const { return 3 * dims + (distances ? BANKS : 0); }

    //! Parameters of the enhancement proper (W_v, W_q, W_k, BatchNorm affine).
    std::vector<Parameter<T>*> enhancementParameters()
    {
        std::vector<Parameter<T>*> p = value.parameters();
        if (neighbours > 1)
        {
            p.push_back(&query.weight);
            p.push_back(&key.weight);
        }
        for (BatchNorm<T>& bn : bankNorm)
            for (Parameter<T>* q : bn.parameters())
                p.push_back(q);
        return p;
    }
    std::vector<Parameter<T>*> adaptorParameters() { return adaptor.parameters(); }

    /** @param queries B x D patch features
        @param bankNeighbours per bank, B x (k*D): each row the k nearest entries, nearest first
        @param training batch statistics (and running-statistics update) instead of running statistics
        @param representation B x 3D output
        @param cache filled for backward() when not null */
    void forward(const Matrix<T>& queries, const Matrix<T>* const bankNeighbours[BANKS], bool training,
                 bool updateRunningStats, Matrix<T>& representation, Cache* cache)
    {
        const Eigen::Index B = queries.rows(), D = dims;
        CV_Assert(queries.cols() == D);
        Cache local;
        Cache& c = cache ? *cache : local;

        Matrix<T> sharedAttention;
        if (neighbours == 1)
            value.forward(queries, sharedAttention);
        else
        {
            query.forward(queries, c.projectedQuery);
            multiply(c.projectedQuery, key.weight.value, c.keyQuery);
        }

        representation.resize(B, outputDims());
        Matrix<T> projected;
        adaptor.forward(queries, projected);
        representation.leftCols(D) = projected;
        for (int b = 0; b < BANKS; b++)
        {
            const Matrix<T>& M = *bankNeighbours[b];
            CV_Assert(M.rows() == B && M.cols() == neighbours * D);
            BankCache& bc = c.bank[b];
            Matrix<T> residual = queries - M.leftCols(D);
            if (neighbours == 1)
                residual += sharedAttention;
            else
            {
                attend(c.keyQuery, M, bc.weights, bc.attended);
                Matrix<T> attention;
                value.forward(bc.attended, attention);
                residual += attention;
            }
            if (training)
                bankNorm[b].forwardTrain(residual, bc.enhanced, bc.norm, updateRunningStats);
            else
                bankNorm[b].forwardEval(residual, bc.enhanced);
            adaptor.forward(bc.enhanced, projected);
            representation.middleCols((b + 1) * D, D) = projected;
            if (distances)
                representation.col(3 * D + b) = (queries - M.leftCols(D)).rowwise().norm();
        }
    }

    /** Adds the gradients of the loss to the parameters, given dLoss/dRepresentation.
        @param trainEnhancement false: only the adaptor P learns (the reference code's behaviour) */
    void backward(const Matrix<T>& queries, const Matrix<T>* const bankNeighbours[BANKS], const Cache& c,
                  const Matrix<T>& dRepresentation, bool trainEnhancement)
    {
        const Eigen::Index D = dims;
        adaptor.backward(queries, dRepresentation.leftCols(D), nullptr);
        if (!trainEnhancement)
        {
            for (int b = 0; b < BANKS; b++)
                adaptor.backward(c.bank[b].enhanced, dRepresentation.middleCols((b + 1) * D, D), nullptr);
            return;
        }
        Matrix<T> dEnhanced, dResidual, dAttentionSum, dKeyQuery;
        for (int b = 0; b < BANKS; b++)
        {
            const BankCache& bc = c.bank[b];
            adaptor.backward(bc.enhanced, dRepresentation.middleCols((b + 1) * D, D), &dEnhanced);
            bankNorm[b].backward(bc.norm, dEnhanced, dResidual);
            if (neighbours == 1)
            {
                if (b == 0)
                    dAttentionSum = dResidual;
                else
                    dAttentionSum += dResidual;
            }
            else
            {
                Matrix<T> dAttended;
                value.backward(bc.attended, dResidual, &dAttended);
                attendBackward(c.keyQuery, *bankNeighbours[b], bc.weights, dAttended, dKeyQuery, b == 0);
            }
        }
        if (neighbours == 1)
            value.backward(queries, dAttentionSum, nullptr);
        else
        {
            // keyQuery = U W_k, U = q W_q^T
            accumulateTransposedProduct(c.projectedQuery, dKeyQuery, key.weight.grad);
            Matrix<T> dProjected;
            multiplyTransposed(dKeyQuery, key.weight.value, dProjected);
            query.backward(queries, dProjected, nullptr);
        }
    }

private:
    //! weights = softmax_j(keyQuery . m_j / sqrt(D)), attended = sum_j weights_j m_j, row by row.
    void attend(const Matrix<T>& keyQuery, const Matrix<T>& M, Matrix<T>& weights, Matrix<T>& attended) const
    {
        const Eigen::Index B = M.rows(), D = dims, k = neighbours;
        const T scale = (T)(1.0 / std::sqrt((double)D));
        weights.resize(B, k);
        attended.resize(B, D);
        parallel_for_(Range(0, blockCount(B, kRowBlock)), [&](const Range& r) {
            for (int blk = r.start; blk < r.end; blk++)
                for (Eigen::Index i = (Eigen::Index)blk * kRowBlock; i < std::min<Eigen::Index>(B, (blk + 1) * (Eigen::Index)kRowBlock); i++)
                {
                    T maxLogit = -std::numeric_limits<T>::infinity();
                    for (Eigen::Index j = 0; j < k; j++)
                    {
                        weights(i, j) = keyQuery.row(i).dot(M.row(i).segment(j * D, D)) * scale;
                        maxLogit = std::max(maxLogit, weights(i, j));
                    }
                    T sum = 0;
                    for (Eigen::Index j = 0; j < k; j++)
                        sum += (weights(i, j) = std::exp(weights(i, j) - maxLogit));
                    attended.row(i).setZero();
                    for (Eigen::Index j = 0; j < k; j++)
                    {
                        weights(i, j) /= sum;
                        attended.row(i) += weights(i, j) * M.row(i).segment(j * D, D);
                    }
                }
        });
    }

    //! Backward of attend(): dKeyQuery (+)= sum_j dLogit_j m_j / sqrt(D).
    void attendBackward(const Matrix<T>& keyQuery, const Matrix<T>& M, const Matrix<T>& weights,
                        const Matrix<T>& dAttended, Matrix<T>& dKeyQuery, bool first) const
    {
        CV_UNUSED(keyQuery);
        const Eigen::Index B = M.rows(), D = dims, k = neighbours;
        const T scale = (T)(1.0 / std::sqrt((double)D));
        if (first)
            dKeyQuery.setZero(B, D);
        parallel_for_(Range(0, blockCount(B, kRowBlock)), [&](const Range& r) {
            std::vector<T> dWeight(k);
            for (int blk = r.start; blk < r.end; blk++)
                for (Eigen::Index i = (Eigen::Index)blk * kRowBlock; i < std::min<Eigen::Index>(B, (blk + 1) * (Eigen::Index)kRowBlock); i++)
                {
                    T weighted = 0;
                    for (Eigen::Index j = 0; j < k; j++)
                    {
                        dWeight[j] = dAttended.row(i).dot(M.row(i).segment(j * D, D));
                        weighted += weights(i, j) * dWeight[j];
                    }
                    for (Eigen::Index j = 0; j < k; j++)
                    {
                        const T dLogit = weights(i, j) * (dWeight[j] - weighted);
                        dKeyQuery.row(i) += (dLogit * scale) * M.row(i).segment(j * D, D);
                    }
                }
        });
    }
};

}}} // namespace cv::dmad::nn

#endif // OPENCV_DMAD_ENHANCEMENT_NETWORK_HPP
