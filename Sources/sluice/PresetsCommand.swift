import ArgumentParser
import SluiceCore
import SluicePresets

struct PresetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "presets", abstract: "List the shipped job presets.")

    @Flag(help: "Print each preset's full spec as JSON.")
    var json = false

    func run() async throws {
        let catalog = try PresetCatalog.shipped()
        for preset in catalog.presets {
            if json {
                print(JSONWriter.string(["name": .string(preset.name), "description": .string(preset.description), "spec": preset.spec]))
            } else {
                print("\(preset.name)\n    \(preset.description)\n")
            }
        }
    }
}
