# Locate ROOT for nutag.
#
# Works unchanged with a normal ROOT installation (LCG view, conda-forge, a source build: pass
# -DROOT_DIR=... or have root-config / ROOTSYS in the environment) and with the PyPI `root` wheel.
#
# Why the wheel needs help: its ROOTConfig-targets*.cmake point at a nonexistent
# <site-packages>/mock_site_packages/ROOT/... so a plain find_package(ROOT) fails on the first
# imported target. We locate the wheel without importing it (importlib.util.find_spec does not run
# ROOT/__init__.py), copy its CMake package into the build tree with the broken prefix replaced by
# the real one, and point ROOT_DIR at the copy. The wheel itself is never modified.
# The wheel also vendors freetype/libpng etc. in <site-packages>/root.libs; executables linking
# ROOT::Hist or ROOT::Graf need -rpath-link to that directory, which we add when it exists.

set(NUTAG_ROOT_SOURCE "" CACHE STRING "Where ROOT was found (set by NutagFindROOT.cmake)")

function(_nutag_wheel_root_dir out)
  set(${out} "" PARENT_SCOPE)
  find_package(Python3 COMPONENTS Interpreter QUIET)
  if(NOT Python3_Interpreter_FOUND)
    return()
  endif()
  execute_process(
    COMMAND "${Python3_EXECUTABLE}" -c
      "import importlib.util; s = importlib.util.find_spec('ROOT'); print(s.submodule_search_locations[0] if s and s.submodule_search_locations else '')"
    OUTPUT_VARIABLE _dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
  if(_rc EQUAL 0 AND _dir AND EXISTS "${_dir}/cmake/ROOTConfig.cmake")
    set(${out} "${_dir}" PARENT_SCOPE)
  endif()
endfunction()

function(_nutag_patch_wheel_cmake root_pkg out_dir)
  set(_src "${root_pkg}/cmake")
  set(_dst "${CMAKE_BINARY_DIR}/root-cmake-patched")
  get_filename_component(_site "${root_pkg}" DIRECTORY)
  file(GLOB _files RELATIVE "${_src}" "${_src}/*.cmake")
  file(MAKE_DIRECTORY "${_dst}")
  foreach(_f IN LISTS _files)
    file(READ "${_src}/${_f}" _text)
    string(REPLACE "\${_IMPORT_PREFIX}/mock_site_packages" "${_site}" _text "${_text}")
    string(REPLACE "\${_IMPORT_PREFIX}/include" "${root_pkg}/include" _text "${_text}")
    # ROOTConfig.cmake derives include/lib/bin from its own location: make them absolute.
    string(REPLACE "\${_thisdir}/../" "${root_pkg}/" _text "${_text}")
    # older wheels (0.1a8, ROOT 6.37) name their own directories below the mock prefix there
    string(REPLACE "${root_pkg}/mock_site_packages/ROOT/" "${root_pkg}/" _text "${_text}")
    file(WRITE "${_dst}/${_f}.tmp" "${_text}")
    file(RENAME "${_dst}/${_f}.tmp" "${_dst}/${_f}")
  endforeach()
  if(EXISTS "${_src}/modules")
    file(COPY "${_src}/modules" DESTINATION "${_dst}")
  endif()
  set(${out_dir} "${_dst}" PARENT_SCOPE)
endfunction()

if(NOT ROOT_DIR AND NOT DEFINED ENV{ROOTSYS} AND NOT DEFINED ENV{ROOT_DIR})
  _nutag_wheel_root_dir(_nutag_root_pkg)
  if(_nutag_root_pkg)
    file(GLOB _targets "${_nutag_root_pkg}/cmake/ROOTConfig-targets*.cmake")
    set(_needs_patch FALSE)
    foreach(_t IN LISTS _targets)
      file(STRINGS "${_t}" _hit REGEX "mock_site_packages" LIMIT_COUNT 1)
      if(_hit)
        set(_needs_patch TRUE)
      endif()
    endforeach()
    if(_needs_patch)
      _nutag_patch_wheel_cmake("${_nutag_root_pkg}" _patched)
      set(ROOT_DIR "${_patched}" CACHE PATH "ROOT CMake package (patched copy of the PyPI wheel's)" FORCE)
      set(NUTAG_ROOT_SOURCE "PyPI wheel at ${_nutag_root_pkg} (patched CMake copy)" CACHE STRING "" FORCE)
    else()
      set(ROOT_DIR "${_nutag_root_pkg}/cmake" CACHE PATH "ROOT CMake package" FORCE)
      set(NUTAG_ROOT_SOURCE "Python package at ${_nutag_root_pkg}" CACHE STRING "" FORCE)
    endif()
    get_filename_component(_site "${_nutag_root_pkg}" DIRECTORY)
    foreach(_libs IN ITEMS root.libs ROOT.libs)  # ROOT.libs in older wheels (0.1a8)
      if(EXISTS "${_site}/${_libs}")
        # cached: a re-configure finds ROOT_DIR cached, skips this block and must keep it
        set(NUTAG_ROOT_RPATH_LINK "${_site}/${_libs}" CACHE PATH
            "The wheel's vendored libraries (-rpath-link of executables linking ROOT::Hist)" FORCE)
      endif()
    endforeach()
  endif()
endif()

# The oldest ROOT the library builds and works with: that of the analysis (6.36). Newer
# features need more (nutag simulate: 6.38); each command checks its own minimum at start-up
# (analysis/nutag/core/versions.py), so an LCG view with ROOT 6.36 builds nutag and analyses files,
# and `nutag simulate` there stops with one line naming both versions.
set(NUTAG_ROOT_MINIMUM 6.36)
find_package(ROOT ${NUTAG_ROOT_MINIMUM} REQUIRED
             COMPONENTS Core MathCore GenVector ROOTVecOps ROOTDataFrame Hist Tree RIO)
if(NOT NUTAG_ROOT_SOURCE)
  set(NUTAG_ROOT_SOURCE "ROOT_DIR=${ROOT_DIR}" CACHE STRING "" FORCE)
endif()
message(STATUS "nutag: ROOT ${ROOT_VERSION} from ${NUTAG_ROOT_SOURCE}")
if(NUTAG_ROOT_RPATH_LINK)
  add_link_options("LINKER:-rpath-link,${NUTAG_ROOT_RPATH_LINK}")
endif()
