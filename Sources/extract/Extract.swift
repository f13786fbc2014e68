import ArgumentParser
import Extraction

@main
struct Extract: ParsableCommand {
  func run() throws {}
}
