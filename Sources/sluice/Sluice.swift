import ArgumentParser

@main
struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Run every item of a large upload through language models in rate-limited, durable batches.",
        subcommands: [
            RunCommand.self, SubmitCommand.self, StatusCommand.self, WatchCommand.self, ResultsCommand.self,
            ControlCommand<Cancel>.self, ControlCommand<Pause>.self, ControlCommand<Resume>.self, ControlCommand<Retry>.self,
            JobsCommand.self, ServeCommand.self, WorkerCommand.self, MigrateCommand.self, KeysCommand.self, PresetsCommand.self,
        ]
    )
}
