extension MTTokenizers {
    /// Built-in tokenizers; register a new one with one line here.
    static let builtins: [any MTTokenizer.Type] = [
        Tokenizer13a.self,
        TokenizerIntl.self,
        TokenizerZh.self,
        TokenizerChar.self,
        TokenizerNone.self,
    ]
}
