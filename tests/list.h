/* Every test, once. */
TEST(reference_net_trains)
