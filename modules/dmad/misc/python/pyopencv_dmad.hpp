// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The Python generator names a nested type `Outer::Inner` as `Outer_Inner` in the code it writes.
#ifdef HAVE_OPENCV_DMAD
typedef cv::dmad::DMAD::Params DMAD_Params;
typedef cv::dmad::DMAD::Timings DMAD_Timings;
typedef cv::dmad::DMAD::Inspection DMAD_Inspection;
typedef cv::dmad::DualMemoryBank::Params DualMemoryBank_Params;
typedef cv::dmad::DualMemoryBank::Sources DualMemoryBank_Sources;
typedef cv::dmad::FeatureExtractor::Params FeatureExtractor_Params;
typedef cv::dmad::KnowledgeEnhancement::Params KnowledgeEnhancement_Params;
typedef cv::dmad::MemoryBank::Params MemoryBank_Params;
typedef cv::dmad::ScoringHead::Params ScoringHead_Params;
#endif
