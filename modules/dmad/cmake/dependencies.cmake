# Third-party dependencies shared by both builds. All come from Debian packages:
# libeigen3-dev (header-only linear algebra) and libnanoflann-dev (header-only KD-tree).
include_guard(GLOBAL)

macro(dmad_find_dependencies)
  find_package(Eigen3 3.3 REQUIRED NO_MODULE)
  find_package(nanoflann REQUIRED)
endmacro()

# Header-only dependencies are attached as include folders, which works both for plain CMake targets
# and for OpenCV's module targets (whose link interface uses the legacy keyword signature).
function(dmad_use_dependencies target)
  get_target_property(_eigen_inc Eigen3::Eigen INTERFACE_INCLUDE_DIRECTORIES)
  get_target_property(_nanoflann_inc nanoflann::nanoflann INTERFACE_INCLUDE_DIRECTORIES)
  target_include_directories(${target} SYSTEM PRIVATE ${_eigen_inc} ${_nanoflann_inc})
  target_compile_definitions(${target} PRIVATE EIGEN_MPL2_ONLY)
endfunction()
