# Plain-CMake build of modules/dmad_eval against an installed OpenCV (Debian 12: 4.6).
# Same target names as the in-tree build: opencv_dmad_eval, opencv_test_dmad_eval.
get_filename_component(DMAD_EVAL_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
include("${DMAD_EVAL_DIR}/../dmad/cmake/standalone_targets.cmake")

file(GLOB DMAD_EVAL_SOURCES CONFIGURE_DEPENDS "${DMAD_EVAL_DIR}/src/*.cpp")
dmad_add_module_library(dmad_eval "${DMAD_EVAL_DIR}" SOURCES ${DMAD_EVAL_SOURCES}
                        LINK opencv_dmad opencv_core opencv_imgproc opencv_imgcodecs)
if(NOT DEFINED DMAD_BUILD_TESTS OR DMAD_BUILD_TESTS)
  dmad_add_module_tests(dmad_eval "${DMAD_EVAL_DIR}" LINK opencv_dmad_eval)
endif()
