// ROOT dictionary for the nutag C++ core (rootcling / ROOT_GENERATE_DICTIONARY; must come last on
// the rootcling command line). Gives PyROOT and cling I/O-free access to the structs and the
// free functions of nutag/kinematics.hpp and nutag/geometry.hpp without re-parsing the sources.
// The GenVector types in the structs (XYZPoint, XYZVector, PxPyPzEVector) have their
// dictionaries in libGenVector. Keep this list in sync with the headers.
#ifdef __CLING__

#pragma link off all globals;
#pragma link off all classes;
#pragma link off all functions;
#pragma link C++ nestedclasses;

#pragma link C++ namespace nutag;

// structs (kinematics.hpp)
#pragma link C++ struct nutag::Line+;
#pragma link C++ struct nutag::Vertex+;
#pragma link C++ struct nutag::TaggedNeutrino+;

// kinematics.hpp
#pragma link C++ function nutag::closest_approach;
#pragma link C++ function nutag::four_vector;
#pragma link C++ function nutag::missing_mass2;
#pragma link C++ function nutag::tag_neutrino;
#pragma link C++ function nutag::neutrino_energy;

// geometry.hpp
#pragma link C++ function nutag::extrapolate_to_z;
#pragma link C++ function nutag::transverse_distance;
#pragma link C++ function nutag::offset_azimuth;
#pragma link C++ function nutag::azimuth_between;
#pragma link C++ function nutag::beam_axis;
#pragma link C++ function nutag::track_after_magnet;
#pragma link C++ function nutag::track_position_at_z;
#pragma link C++ function nutag::momentum_after_magnet;
#pragma link C++ function nutag::in_lkr_acceptance;
#pragma link C++ function nutag::in_straw_acceptance;
#pragma link C++ function nutag::straw_hole_centre_x;
#pragma link C++ function nutag::straw_z;
#pragma link C++ function nutag::in_muv12_acceptance;
#pragma link C++ function nutag::muv3_tile;
#pragma link C++ function nutag::muv3_is_inner;
#pragma link C++ function nutag::muv3_tile_x;
#pragma link C++ function nutag::muv3_tile_y;
#pragma link C++ function nutag::quadrant;
#pragma link C++ function nutag::diagonally_opposite;

// constants (inline constexpr variables of constants.hpp / geometry.hpp)
#pragma link C++ defined_in "nutag/constants.hpp";

// RVec selection helpers of the event loop
#pragma link C++ defined_in "nutag/selection.hpp";

#endif
