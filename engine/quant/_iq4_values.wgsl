// The 16 non-linear levels of IQ4_NL and IQ4_XS.
// ggml's kvalues_iq4nl (IQ4_VALUES in iq4_nl.ts)
var<private> IQ4_VALUES: array<i32, 16> = array<i32, 16>(
  -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
);
