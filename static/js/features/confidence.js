// The classifier's confidence in words. Its probabilities are calibrated on held-out folds (a post scored 0.8
// is right about 8 times in 10), so the words say how often a guess that sure turns out right.
const WORDS = [
  [0.95, 'almost certainly right'],
  [0.85, 'very likely right'],
  [0.65, 'likely right'],
  [0.4, 'a toss-up'],
  [0, 'probably wrong'],
];

export const confidenceWords = (p) => WORDS.find(([low]) => p >= low)[1];
