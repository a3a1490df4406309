// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// How DMAD embeds its parts in one file: each part is a top-level node that its own load() reads.

#ifndef OPENCV_DMAD_MODEL_PERSISTENCE_HPP
#define OPENCV_DMAD_MODEL_PERSISTENCE_HPP

#include "opencv2/dmad/dual_memory_bank.hpp"

namespace cv {
namespace dmad {

//! Writes the DualMemoryBank node `name` plus the "normal_bank" and "abnormal_bank" nodes.
void writeDualMemoryBank(FileStorage& fs, const DualMemoryBank& banks, const String& name);
//! Reads what writeDualMemoryBank() wrote.
/** Reads the DualMemoryBank node `name` and its two bank nodes, children of `container` (a model
    file's root, or a node holding a whole model); errors name `filename`. */
Ptr<DualMemoryBank> readDualMemoryBank(const FileNode& container, const String& name, const String& filename);

}} // namespace cv::dmad

#endif // OPENCV_DMAD_MODEL_PERSISTENCE_HPP
