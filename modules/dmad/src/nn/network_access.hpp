// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The trainer's access to the networks behind the public KnowledgeEnhancement and ScoringHead.

#ifndef OPENCV_DMAD_NETWORK_ACCESS_HPP
#define OPENCV_DMAD_NETWORK_ACCESS_HPP

#include "enhancement/enhancement_network.hpp"
#include "scoring/scoring_network.hpp"

namespace cv {
namespace dmad {

nn::EnhancementNetwork<float>& networkOf(KnowledgeEnhancement& enhancement);
nn::ScoringNetwork<float>& networkOf(ScoringHead& head);

}} // namespace cv::dmad

#endif // OPENCV_DMAD_NETWORK_ACCESS_HPP
