// Physical constants and NA62 (2022) geometry used everywhere in nutag.
// Units: GeV, mm, ns. z is measured along the beam from the T10 target.
// Sources: PDG for masses and lifetimes, NA62 detector papers / offline software for positions
// (see docs/simulation.md, which cites each number).
#pragma once

namespace nutag {

// --- masses [GeV/c^2] and proper decay lengths [mm] (PDG) ---
inline constexpr double kMassKaon = 0.493677;
inline constexpr double kMassPion = 0.13957039;
inline constexpr double kMassPi0 = 0.1349768;
inline constexpr double kMassMuon = 0.1056583755;
inline constexpr double kMassElectron = 0.00051099895;
inline constexpr double kMassNucleon = 0.938918;  // average of p and n
inline constexpr double kCTauKaon_mm = 3711.0;
inline constexpr double kCTauPion_mm = 7804.0;

// --- beam ---
inline constexpr double kBeamMomentum = 75.0;        // GeV/c
inline constexpr double kBeamSlopeX = 1.2e-3;        // rad, beam axis slope in x
inline constexpr double kZGtk1_mm = 79600.0;
inline constexpr double kZGtk2_mm = 92800.0;
inline constexpr double kZGtk3_mm = 102400.0;        // beam axis passes x = y = 0 here
inline constexpr double kZKtagStart_mm = 69200.0;
inline constexpr double kZKtagEnd_mm = 79400.0;

// --- decay volume ---
inline constexpr double kZFiducialStart_mm = 105000.0;
inline constexpr double kZFiducialEnd_mm = 180000.0;

// --- spectrometer ---
inline constexpr double kZStraw1_mm = 183508.0;
inline constexpr double kZStraw2_mm = 194066.0;
inline constexpr double kZStraw3_mm = 204459.0;
inline constexpr double kZStraw4_mm = 218885.0;
inline constexpr double kZMagnetStart_mm = 196345.0;
inline constexpr double kZMagnetEnd_mm = 197645.0;
inline constexpr double kZMagnetCentre_mm = 196995.0;
inline constexpr double kMagnetPtKick = 0.270;       // GeV/c, in x
inline constexpr double kStrawOuterRadius_mm = 1000.0;

// --- downstream detectors ---
inline constexpr double kZRichStart_mm = 219600.0;
inline constexpr double kZRichEnd_mm = 237600.0;
inline constexpr double kRichBeamPipeRadius_mm = 100.0;  // RICH acceptance 100 < R < 1100 mm
inline constexpr double kRichOuterRadius_mm = 1100.0;
inline constexpr double kZNewChod_mm = 238130.0;
inline constexpr double kZChod_mm = 239200.0;
inline constexpr double kChodInnerRadius_mm = 140.0;   // NewCHOD / CHOD acceptance 140 < R < 1070 mm
inline constexpr double kChodOuterRadius_mm = 1070.0;
inline constexpr double kZLkrFront_mm = 241093.0;    // LKr reference plane
inline constexpr double kLkrDepth_mm = 1270.0;
inline constexpr double kLkrApothem_mm = 1130.0;
inline constexpr double kLkrInnerRadius_mm = 150.0;
inline constexpr double kLkrColdWindowDomeRadius_mm = 4067.0;  // sagitta fit of the NA62MC cold window (r = 150 -> 1100 mm: 146 mm)
inline constexpr double kLkrCellSize_mm = 19.74;
inline constexpr double kZMuv1_mm = 243418.0;
inline constexpr double kMuv1Depth_mm = 643.0;
inline constexpr double kZMuv2_mm = 244435.0;
inline constexpr double kMuv2Depth_mm = 600.0;
inline constexpr double kMuvHalfSize_mm = 1100.0;
inline constexpr double kMuvInnerRadius_mm = 130.0;
inline constexpr double kZMuv3IronStart_mm = 245900.0;
inline constexpr double kZMuv3IronEnd_mm = 246700.0;
inline constexpr double kZMuv3_mm = 246800.0;
inline constexpr double kMuv3TileSize_mm = 220.0;
inline constexpr int kMuv3TilesPerSide = 12;
inline constexpr double kMuv3InnerRadius_mm = 103.0;

// --- expected MIP deposits of a muon [GeV] (NA62) ---
inline constexpr double kMipLkr = 0.6;
inline constexpr double kMipMuv1 = 1.38;
inline constexpr double kMipMuv2 = 1.25;

}  // namespace nutag
