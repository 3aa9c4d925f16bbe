// Umbrella header of the nutag C++ core: include this one file to get everything (constants,
// kinematics, geometry). It is what the Python side JIT-declares in cling and what the ROOT
// dictionary is generated from.
#pragma once

#include "nutag/constants.hpp"
#include "nutag/geometry.hpp"
#include "nutag/kinematics.hpp"
#include "nutag/selection.hpp"
