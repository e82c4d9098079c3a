/** Lower case, accents and punctuation removed, spaces collapsed: "  Où sont mes CHANTIERS ?" → "ou sont mes chantiers". */
export const foldText = (text: string): string =>
  text
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim()
