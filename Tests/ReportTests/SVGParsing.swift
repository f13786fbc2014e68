// Reading back what the renderer wrote: the attributes of elements picked by tag and class,
// and the page parsed as XML, so tests check numbers rather than the presence of strings.

import Foundation
import XCTest

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// The attributes of every `<tag ...>` whose class attribute is `className`, in document order.
func elements(_ markup: String, tag: String, className: String) -> [[String: String]] {
  let tagPattern = try! NSRegularExpression(pattern: "<\(tag)\\s([^>]*?)/?>")
  let attributePattern = try! NSRegularExpression(pattern: "([a-zA-Z0-9:-]+)=\"([^\"]*)\"")
  let text = markup as NSString
  var found: [[String: String]] = []
  for match in tagPattern.matches(in: markup, range: NSRange(location: 0, length: text.length)) {
    let inside = text.substring(with: match.range(at: 1))
    var attributes: [String: String] = [:]
    let insideText = inside as NSString
    for a in attributePattern.matches(in: inside, range: NSRange(location: 0, length: insideText.length)) {
      attributes[insideText.substring(with: a.range(at: 1))] = insideText.substring(with: a.range(at: 2))
    }
    if attributes["class"] == className { found.append(attributes) }
  }
  return found
}

func double(_ attributes: [String: String], _ name: String, file: StaticString = #filePath, line: UInt = #line)
  -> Double
{
  guard let text = attributes[name], let value = Double(text) else {
    XCTFail("attribute \(name) missing or not a number in \(attributes)", file: file, line: line)
    return .nan
  }
  return value
}

func int(_ attributes: [String: String], _ name: String, file: StaticString = #filePath, line: UInt = #line) -> Int {
  guard let text = attributes[name], let value = Int(text) else {
    XCTFail("attribute \(name) missing or not an integer in \(attributes)", file: file, line: line)
    return -1
  }
  return value
}

/// Parses `markup` as XML; returns the element names seen, or the parser's error.
func parseXML(_ markup: String) -> Result<[String], Error> {
  final class Collector: NSObject, XMLParserDelegate {
    var names: [String] = []
    func parser(
      _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
      attributes: [String: String] = [:]
    ) {
      names.append(elementName)
    }
  }
  // XMLParser does not know the HTML5 doctype's absence of a DTD is fine; drop the line.
  let body = markup.replacingOccurrences(of: "<!DOCTYPE html>\n", with: "")
  let parser = XMLParser(data: Data(body.utf8))
  let collector = Collector()
  parser.delegate = collector
  if parser.parse() { return .success(collector.names) }
  return .failure(parser.parserError ?? NSError(domain: "xml", code: 1))
}
