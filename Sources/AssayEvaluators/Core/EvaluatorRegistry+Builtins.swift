extension EvaluatorRegistry {
    /// Built-in evaluators. Register a new one with one line here.
    static let builtins: [any Evaluator.Type] = [
        BLEUEvaluator.self,
        ChrFEvaluator.self,
        InterRaterEvaluator.self,
        HumanAgreementEvaluator.self,
        PerplexityEvaluator.self,
        ThroughputEvaluator.self,
        BERTScoreEvaluator.self,
        QuantDriftEvaluator.self,
        EncoderDriftEvaluator.self,
        PairedDeltaEvaluator.self,
        GenerationEvaluator.self,
        ServingEvaluator.self,
    ]
}
