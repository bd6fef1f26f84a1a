import AssayCLI

/// The `assay` executable: everything lives in `AssayCLI`.
@main
enum AssayMain {
    static func main() async {
        await AssayCommand.main(nil)
    }
}
