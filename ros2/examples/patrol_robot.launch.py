# ROS 2 launch file for the audited example robot (it is a Node.js process, not a ROS package
# executable, so it is started with ExecuteProcess and its pcp.* parameters go on its command line as
# --ros-args -p, which the node reads as rclnodejs does). Run, for example:
#   ros2 launch ros2/examples/patrol_robot.launch.py pcp_edge_dir:=/opt/pcp-edge agent:=patrol_robot \
#     home:=/var/lib/pcp passphrase_file:=/etc/pcp/patrol_robot.pass
# On shutdown launch sends SIGINT, which the robot handles by closing its audit (last events) first.
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.substitutions import LaunchConfiguration

PCP_PARAMETERS = ['agent', 'home', 'passphrase_file', 'durability']


def robot(context):
    value = {name: LaunchConfiguration(name).perform(context) for name in PCP_PARAMETERS}
    ros_args = ['--ros-args', '-p', 'pcp.name:=' + value['agent'], '-p', 'pcp.durability:=' + value['durability']]
    for name in ['home', 'passphrase_file']:
        if value[name]:  # empty: the node's defaults (its usual home; systemd credential or no passphrase)
            ros_args += ['-p', 'pcp.' + name + ':=' + value[name]]
    return [ExecuteProcess(
        cmd=['node', '--import', 'tsx', 'ros2/examples/patrol_robot.ts'] + ros_args,
        cwd=LaunchConfiguration('pcp_edge_dir').perform(context),
        sigterm_timeout='20',
        output='screen',
    )]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('pcp_edge_dir', default_value='.', description='checkout of pcp-edge (npm ci done)'),
        DeclareLaunchArgument('agent', default_value='patrol_robot', description='pcp.name: the agent whose chain the node writes'),
        DeclareLaunchArgument('home', default_value='', description='pcp.home: the agent data directory'),
        DeclareLaunchArgument('passphrase_file', default_value='', description='pcp.passphrase_file'),
        DeclareLaunchArgument('durability', default_value='durable', description='pcp.durability: durable or relaxed'),
        OpaqueFunction(function=robot),
    ])
