import os
import unittest

from app.inventory import database_reachable, reserve


class ReserveTest(unittest.TestCase):
    def test_reserves_stock(self):
        self.assertEqual(reserve({"apple": 3}, "apple", 2), {"apple": 1})

    def test_refuses_more_than_available(self):
        with self.assertRaises(ValueError):
            reserve({"apple": 1}, "apple", 2)

    def test_refuses_non_positive_counts(self):
        with self.assertRaises(ValueError):
            reserve({"apple": 1}, "apple", 0)


@unittest.skipUnless(database_reachable(), "PostgreSQL service not reachable (services run on Kubernetes, not in gust run)")
class DatabaseTest(unittest.TestCase):
    def test_connects(self):
        self.assertTrue(database_reachable(os.environ["DATABASE_URL"]))


if __name__ == "__main__":
    unittest.main()
