import Foundation
@testable import SidecarMessage
import Testing

@Suite struct RFC5322DateTests {
    @Test(arguments: [
        (0.0, "Thu, 01 Jan 1970 00:00:00 +0000"),
        (1_709_647_389.75, "Tue, 05 Mar 2024 14:03:09 +0000"),
        (1_709_164_800, "Thu, 29 Feb 2024 00:00:00 +0000"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 +0000"),
        (4_133_980_799, "Fri, 31 Dec 2100 23:59:59 +0000"),
        (-1, "Wed, 31 Dec 1969 23:59:59 +0000"),
    ])
    func formatsInUTC(seconds: Double, expected: String) {
        #expect(RFC5322Date.string(from: Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func agreesWithFoundationOverManyDays() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        for day in stride(from: -20_000, to: 60_000, by: 97) {
            let date = Date(timeIntervalSince1970: Double(day) * 86_400 + 45_296)
            #expect(RFC5322Date.string(from: date) == formatter.string(from: date))
        }
    }
}
