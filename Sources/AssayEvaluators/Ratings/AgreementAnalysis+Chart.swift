extension AgreementAnalysis {
    /// Pairwise Cohen's kappa as a heatmap: raters on both axes; a pair without shared items is
    /// blank, a pair whose kappa is undefined is `n/a`.
    public var kappaChart: Chart {
        var kappa: [String: Double?] = [:]
        for pair in pairs {
            kappa["\(pair.raters[0])\u{0}\(pair.raters[1])"] = pair.kappa
            kappa["\(pair.raters[1])\u{0}\(pair.raters[0])"] = pair.kappa
        }
        let cells = raters.map { a in
            raters.map { b -> HeatmapCell in
                guard let value = kappa["\(a)\u{0}\(b)"] else { return .absent }
                return value.map(HeatmapCell.value) ?? .undefined
            }
        }
        return .heatmap(title: "Pairwise Cohen's kappa (\(weights) weights) — \(set)", caption: "Pairwise kappa (\(weights)) — \(set)",
                        labels: raters, cells: cells)
    }
}
