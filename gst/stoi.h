/* gst-voicecall: speech intelligibility of received audio. Plain logic, no element: the CLI's
 * `score` and the experiment (tests/bench/experiment.py) use it.
 *
 * STOI, the Short-Time Objective Intelligibility measure (C. H. Taal, R. C. Hendriks,
 * R. Heusdens, J. Jensen, "An Algorithm for Intelligibility Prediction of Time-Frequency
 * Weighted Noisy Speech", IEEE TASLP 19(7), 2011), as in the authors' MATLAB code and its
 * reference port pystoi:
 *  - both signals resampled to 10 kHz (Kaiser-windowed sinc, 60 dB stop band);
 *  - frames of 256 samples (25.6 ms), Hann window, 50 % overlap; frames where the clean
 *    signal is more than 40 dB below its loudest frame are removed from both signals;
 *  - a 512-point DFT per frame, grouped into 15 one-third octave bands with centres from
 *    150 Hz (the top band ends near 4.3 kHz);
 *  - for every run of 30 frames (384 ms) and every band: the processed envelope is scaled to
 *    the clean one's energy, clipped at 15 dB above the clean envelope (a -15 dB
 *    signal-to-distortion bound), and correlated with the clean envelope;
 *  - STOI is the mean of those correlations: about 1 for identical speech, near 0 for
 *    unrelated audio. It ranks intelligibility; it is not a percentage of words understood.
 *
 * Received audio is first put on the reference's timeline (align): one cross-correlation lag
 * for the whole recording, refined per second so that a jitter buffer that grows or shrinks
 * during the call does not turn into a misalignment of everything after it. */
#pragma once

#include <string>
#include <vector>

namespace vc::stoi {

constexpr int RATE = 10000;     /* STOI's sample rate */
constexpr int FRAME = 256;      /* samples per analysis frame at RATE */
constexpr int FFT_SIZE = 512;
constexpr int BANDS = 15;       /* one-third octave bands */
constexpr double MIN_CENTRE_HZ = 150;
constexpr int SEGMENT = 30;     /* frames per intermediate measure (384 ms) */
constexpr double BETA_DB = -15; /* lower signal-to-distortion bound */
constexpr double DYNAMIC_RANGE_DB = 40;

/* Resamples by the rational factor to_rate / from_rate with a zero-phase Kaiser-windowed
 * sinc low-pass (as Octave's resample): out[n] is the signal at time n / to_rate. */
std::vector<float> resample (const std::vector<float> &in, int from_rate, int to_rate);

/* One third octave band: the DFT bins [first_bin, end_bin) it sums (FFT_SIZE at RATE). */
struct Band {
  double centre_hz;
  int first_bin;
  int end_bin;
};
const std::vector<Band> &bands ();

/* STOI of `processed` against `clean`, both at `rate` and already aligned; the longer one is
 * cut to the shorter. Returns NaN when fewer than SEGMENT frames remain after removing the
 * clean signal's silent frames (less than about 0.4 s of speech). */
double stoi (const std::vector<float> &clean, const std::vector<float> &processed, int rate);

/* One block of received audio: where it starts (received samples), its lag, how well it
 * correlated there, and whether that lag was taken (else the previous block's was kept). */
struct BlockLag {
  long start = 0;
  long lag = 0;
  double correlation = 0;
  bool aligned = false;
};

/* Where `received` sits on the timeline of `reference`: received[j] is reference[j + lag]. */
struct Alignment {
  long lag = 0;              /* samples, the median of the per-block lags */
  long lag_min = 0, lag_max = 0; /* over the blocks that correlated (timeline changes) */
  double correlation = 0;    /* normalised cross-correlation at the global lag */
  int blocks = 0, blocks_aligned = 0;
  std::vector<BlockLag> block_lags;
  std::vector<float> placed; /* received moved onto the reference's timeline (0 where none) */
  long first = 0, end = 0;   /* the reference samples [first, end) the received audio covers */
};

/* Both signals at the same rate. The global lag is searched over every overlap; each block of
 * `block_s` seconds of received audio is then re-aligned within ±`refine_s` of it (blocks
 * too quiet or correlating less than 0.3 keep the previous block's lag). */
Alignment align (const std::vector<float> &reference, const std::vector<float> &received,
    int rate, double block_s = 1.0, double refine_s = 0.25);

/* What `gst-voicecall score` prints. */
struct Score {
  double stoi = 0;
  double lag_ms = 0;         /* received[t] is reference[t + lag] */
  double lag_spread_ms = 0;  /* lag_max - lag_min */
  double correlation = 0;
  double overlap_s = 0;      /* reference time covered by the received audio */
  double level_dbfs = 0;     /* of the received audio in that time */
  double reference_level_dbfs = 0;
  int blocks = 0, blocks_aligned = 0;
  struct Block {
    double start_ms;         /* in the received recording */
    double lag_ms;
    double correlation;
    bool aligned;
  };
  std::vector<Block> block_lags;
};

/* Aligns (at RATE) and scores; false with *error set when there is nothing to score.
 * `block_s`: the alignment's blocks (see align; each block is searched within ±min (0.25 s,
 * block_s / 2) of the previous block's lag). One second follows a jitter buffer that changes
 * its latency now and then; a playout that time-stretches moves its timeline by a few ms at
 * every stretch, and its recording is placed more faithfully in shorter blocks. */
bool score (const std::vector<float> &reference, int reference_rate,
    const std::vector<float> &received, int received_rate, Score *out, std::string *error,
    double block_s = 1.0);

} // namespace vc::stoi
