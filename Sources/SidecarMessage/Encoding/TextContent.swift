/// The text of a body part as it will be encoded: the caller's string, with a final line
/// break added when ``addsFinalLineBreak`` is set and the string does not end with one.
///
/// Both the planning pass and the writer read the string in slices of its UTF-8 view, so
/// the normalised or encoded text never exists as a second copy.
struct TextContent: Sendable, Hashable {
    let text: String
    let addsFinalLineBreak: Bool

    init(_ text: String, ensuringFinalLineBreak: Bool) {
        self.text = text
        let last = text.utf8.last
        self.addsFinalLineBreak = ensuringFinalLineBreak && last != nil && last != ASCII.lf && last != ASCII.cr
    }

    /// Feeds the whole text through `normalizer` into `encoder`, finishing both.
    func encode<Encoder: TransferEncoder, Output: ByteOutput>(with encoder: inout Encoder, into output: inout Output) {
        var normalizer = LineBreakNormalizer()
        normalizer.feed(text.utf8, to: &encoder, into: &output)
        finish(normalizer: &normalizer, encoder: &encoder, into: &output)
    }

    /// Ends the text: the added line break if any, then the end of input.
    func finish<Encoder: TransferEncoder, Output: ByteOutput>(
        normalizer: inout LineBreakNormalizer, encoder: inout Encoder, into output: inout Output
    ) {
        if addsFinalLineBreak { normalizer.feed(CollectionOfOne(ASCII.lf), to: &encoder, into: &output) }
        normalizer.finish(to: &encoder, into: &output)
    }
}
