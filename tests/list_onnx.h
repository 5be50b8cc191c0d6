/* ONNX import tests (models/onnx.h). */
TEST(onnx_resnet18_matches_torch)
TEST(onnx_mobilenet_v2_matches_torch)
TEST(onnx_mobilenet_v3_small_matches_torch)
TEST(onnx_efficientnet_b0_matches_torch)
