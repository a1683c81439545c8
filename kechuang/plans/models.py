"""Plans, their task trees and supervision (issue 5)."""
